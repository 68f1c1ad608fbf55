/**
 * Errors a user can cause (bad file, bad flag, bad program). They carry a
 * location and print as one line, `file:line:column: message`, and make the
 * CLI exit with code 2 without a stack trace. Anything else that escapes is a
 * bug in dmafuzz.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = 'UserError';
  }

  /** `file:line:column: message` with whatever parts are known. */
  format(): string {
    const where = [this.file, this.line, this.column].filter((p) => p !== undefined && p !== 0).join(':');
    return where ? `${where}: ${this.message}` : this.message;
  }

  /** The same error, attributed to a file (parsers don't know the file name). */
  inFile(file: string): UserError {
    return new UserError(this.message, file, this.line, this.column);
  }
}
