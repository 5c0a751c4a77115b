import { displayText } from '../../common/display-text.js';

/**
 * Every value on the page may come from CI (branch names, reasons): nothing reaches HTML unescaped.
 * Bidi and invisible characters first become visible `<U+202E>`, so none can reorder the page.
 */
export function escapeHtml(value: string): string {
  return displayText(value).replace(/[&<>"']/g, (ch) => `&#${String(ch.codePointAt(0))};`);
}

/** A fragment of HTML that is already safe; only built by `html` and `raw`. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function raw(value: string): SafeHtml {
  return new SafeHtml(value);
}

type Interpolation = string | number | SafeHtml | readonly SafeHtml[] | undefined;

/** Tagged template: interpolated strings are escaped, SafeHtml (and arrays of it) is inserted as is. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    if (value instanceof SafeHtml) out += value.value;
    else if (Array.isArray(value)) out += (value as readonly SafeHtml[]).map((v) => v.value).join('');
    else if (value !== undefined) out += escapeHtml(String(value));
    out += strings[i + 1] ?? '';
  });
  return new SafeHtml(out);
}

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1f24;background:#fff}
h1{font-size:1.4rem;margin:0 0 .25rem}
.sub{color:#57606a;margin:0 0 1.25rem}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{text-align:left;vertical-align:top;padding:.35rem .6rem;border-bottom:1px solid #d0d7de}
th{width:9rem;color:#57606a;font-weight:600}
td{word-break:break-all}
code{font:13px ui-monospace,monospace}
.status{display:inline-block;padding:.1rem .6rem;border-radius:1rem;font-weight:600;background:#eaeef2}
.status-pending{background:#fff8c5}.status-approved,.status-granted,.status-released{background:#dafbe1}
.status-denied,.status-expired{background:#ffebe9}
.flash{padding:.6rem .8rem;border-radius:.4rem;margin:1rem 0;background:#ddf4ff}
.flash-error{background:#ffebe9}
form{display:inline-block;margin:.5rem 1rem .5rem 0;vertical-align:top}
textarea{display:block;width:18rem;height:3.5rem;margin:.3rem 0;font:inherit}
button,.button{font:inherit;padding:.4rem 1rem;border-radius:.4rem;border:1px solid #1f883d;background:#1f883d;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.deny{background:#cf222e;border-color:#cf222e}
.who{color:#57606a;font-size:.9rem;margin-top:2rem}
`;

/**
 * The whole document. The CSP forbids scripts entirely and allows forms to post only back here;
 * the one stylesheet is inline and named by its hash-free `style-src 'unsafe-inline'`, which is
 * harmless without script.
 */
export function layout(title: string, body: SafeHtml): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body.value}</body></html>
`;
}

/** Headers every page carries: no framing (clickjacking), no script, no referrer leaks, no caching. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};
