#!/usr/bin/env node
// The installed `dmafuzz` binary: the compiled CLI (npm run build writes dist/).
import '../dist/src/cli/main.js';
