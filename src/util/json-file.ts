/**
 * JSON a user hands us (a cost table, a run's summary), parsed with the
 * place of the first error: V8's messages give a character position ("in
 * JSON at position 42") or, for an unexpected token, a short quote of the
 * text around it; either becomes a line and column, so that the message
 * names the file, the line and what was expected.
 */
import fs from 'node:fs';
import { UserError } from './errors.js';

/** V8 quotes this many characters of context before the offending one. */
const QUOTED_CONTEXT = 10;

/** Reads and parses `file`, keeping its text for later messages; `what` names the contents ("cost table"). */
export function readJsonFile(file: string, what: string): { value: unknown; text: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${what}: ${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)}`, file);
  }
  return { value: parseJsonText(text, file, what), text };
}

export function parseJsonText(text: string, file: string, what: string): unknown {
  // a byte-order mark (what some Windows editors put first) is not JSON, but it is not an error either
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (e) {
    const message = (e as Error).message;
    const at = errorOffset(body, message);
    const { line, column } = at === undefined ? { line: undefined, column: undefined } : lineAndColumn(body, at);
    // V8's own words say what was expected; its quote of the text is replaced by the place
    const reason = message.replace(/,\s*(\.\.\.)?"[\s\S]*"(\.\.\.)? is not valid JSON$/, '').replace(/ in JSON at position \d+.*$/, '');
    throw new UserError(`${what} is not valid JSON: ${reason}`, file, line, column);
  }
}

/** The character offset V8's message points at, if it gives one. */
function errorOffset(text: string, message: string): number | undefined {
  const position = /at position (\d+)/.exec(message);
  if (position) return Math.min(Number(position[1]), text.length);
  if (/^Unexpected end of JSON input/.test(message)) return text.length;
  const quoted = /^Unexpected token '([\s\S])', (\.\.\.)?"([\s\S]*)"(\.\.\.)? is not valid JSON$/.exec(message);
  if (!quoted) return undefined;
  const [, token, cutBefore, context] = quoted;
  const start = text.indexOf(context!);
  if (start < 0) return undefined;
  // a quote cut at its start puts the token QUOTED_CONTEXT characters in; a whole-text quote, at its first occurrence
  return cutBefore ? start + QUOTED_CONTEXT : start + Math.max(0, context!.indexOf(token!));
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** The line of a top-level `"key":` in the text, for messages about one entry of an object. */
export function lineOfKey(text: string, key: string): number | undefined {
  const at = text.search(new RegExp(`"${key.replace(/[.*+?^${}()|[\]\\"]/g, '\\$&')}"\\s*:`));
  return at < 0 ? undefined : lineAndColumn(text, at).line;
}
