/**
 * Characters that change how text around them is *shown* without being seen themselves: bidi
 * embeddings, overrides and isolates (U+202A–202E, U+2066–2069, U+061C, U+200E/200F), zero-width
 * and other format characters (U+200B–200D, U+2060–2064, U+FEFF, the tag block U+E0000–E007F, all
 * of Unicode's `Cf`), line and paragraph separators (U+2028/2029), control characters, and lone
 * surrogates. A branch named `main\u202E...` can make an approver read another branch, a reason
 * can hide text; each value an approver reads goes through `displayText` first.
 */
const INVISIBLE_RE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/** `<U+202E>`: the code point in the notation people look up, visible in every channel. */
function visibleEscape(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return `<U+${cp.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/**
 * One value as an approver should see it: every invisible or reordering character replaced by a
 * visible `<U+XXXX>`; all other text unchanged. Apply to single values (a ref, a reason, a name),
 * before channel escaping (HTML, Slack mrkdwn), never to text that must keep its line breaks.
 */
export function displayText(value: string): string {
  return value.replace(INVISIBLE_RE, visibleEscape);
}

/** `\u202e`, or a surrogate pair for a code point beyond the BMP (U+E0041 → `\udb40\udc41`). */
function jsonEscape(ch: string): string {
  let out = '';
  for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * JSON for a terminal (`--json`): the same data, but each such character written as a JSON
 * `\uXXXX` escape, so parsing gives back the exact value while the bytes printed hold none of them.
 */
export function displaySafeJson(value: unknown, indent?: number): string {
  // Outside strings JSON.stringify writes only indentation newlines; inside them it escapes C0 itself.
  // JSON.stringify(undefined) is undefined, whatever its declared type says.
  const text = JSON.stringify(value, null, indent) as string | undefined;
  return (text ?? 'null').replace(INVISIBLE_RE, (ch) => (ch === '\n' ? ch : jsonEscape(ch)));
}

/** `displayText` line by line, for messages that may span lines (an error listing several problems). */
export function displayLines(text: string): string {
  return text.split('\n').map(displayText).join('\n');
}
