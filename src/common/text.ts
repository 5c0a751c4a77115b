// C0, DEL, C1 and the Unicode line/paragraph separators: any of them in a ref, a reason or a name
// could forge a line in a log, an audit record, a terminal or a mail.
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** True when the text holds a newline or another control character. */
export function hasControlChars(text: string): boolean {
  return CONTROL_RE.test(text);
}
