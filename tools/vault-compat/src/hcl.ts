import { badRequest } from './api-error.js';

/**
 * The subset of HCL that Vault policies use: blocks with string labels (`path "x" { ... }`),
 * attributes (`capabilities = ["read"]`), lists, nested objects, strings, numbers, booleans and
 * `#`, `//`, `/* *\/` comments. Repeated blocks are collected into arrays.
 */
export type HclValue = string | number | boolean | HclValue[] | HclObject;
export interface HclObject {
  [key: string]: HclValue;
}

type Tok = { t: 'str' | 'ident' | 'num'; v: string } | { t: 'punct'; v: string };

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (/\s/.test(c) || c === ',' ) {
      if (c === ',') toks.push({ t: 'punct', v: ',' });
      i += 1;
    } else if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < src.length && src[i] !== '\n') i += 1;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw badRequest('failed to parse policy: unterminated comment');
      i = end + 2;
    } else if (c === '"') {
      let v = '';
      i += 1;
      for (;;) {
        const d = src[i];
        if (d === undefined || d === '\n') throw badRequest('failed to parse policy: unterminated string');
        if (d === '"') break;
        if (d === '\\') {
          const e = src[i + 1] ?? '';
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
        } else {
          v += d;
          i += 1;
        }
      }
      i += 1;
      toks.push({ t: 'str', v });
    } else if ('{}[]='.includes(c)) {
      toks.push({ t: 'punct', v: c });
      i += 1;
    } else {
      const m = /^[A-Za-z0-9_.\-+*]+/.exec(src.slice(i));
      if (!m) throw badRequest(`failed to parse policy: unexpected ${JSON.stringify(c)}`);
      const v = m[0];
      toks.push({ t: /^-?\d+(\.\d+)?$/.test(v) ? 'num' : 'ident', v });
      i += v.length;
    }
  }
  return toks;
}

export function parseHcl(src: string): HclObject {
  const toks = tokenize(src);
  let pos = 0;
  const peek = (): Tok | undefined => toks[pos];
  const fail = (what: string): never => {
    throw badRequest(`failed to parse policy: ${what}`);
  };
  const expect = (v: string): void => {
    const t = toks[pos];
    if (t?.t !== 'punct' || t.v !== v) fail(`expected "${v}"`);
    pos += 1;
  };
  const add = (obj: HclObject, key: string, value: HclValue): void => {
    const prev = obj[key];
    if (prev === undefined) obj[key] = value;
    else if (Array.isArray(prev) && prev.every((p) => typeof p === 'object' && !Array.isArray(p))) prev.push(value);
    else obj[key] = [prev, value];
  };

  function value(): HclValue {
    const t = peek();
    if (!t) return fail('unexpected end of input');
    pos += 1;
    if (t.t === 'str') return t.v;
    if (t.t === 'num') return Number(t.v);
    if (t.t === 'ident') {
      if (t.v === 'true' || t.v === 'false') return t.v === 'true';
      return fail(`unexpected ${t.v}`);
    }
    if (t.v === '[') {
      const list: HclValue[] = [];
      for (;;) {
        const n = peek();
        if (n?.t === 'punct' && n.v === ']') {
          pos += 1;
          return list;
        }
        if (n?.t === 'punct' && n.v === ',') {
          pos += 1;
          continue;
        }
        list.push(value());
      }
    }
    if (t.v === '{') return body(true);
    return fail(`unexpected "${t.v}"`);
  }

  function body(nested: boolean): HclObject {
    const obj: HclObject = {};
    for (;;) {
      const t = peek();
      if (!t) {
        if (nested) fail('missing "}"');
        return obj;
      }
      if (t.t === 'punct' && t.v === '}') {
        if (!nested) fail('unexpected "}"');
        pos += 1;
        return obj;
      }
      if (t.t === 'punct' && t.v === ',') {
        pos += 1;
        continue;
      }
      if (t.t !== 'ident' && t.t !== 'str') fail(`unexpected "${t.v}"`);
      pos += 1;
      const key = t.v;
      const n = peek();
      if (n?.t === 'punct' && n.v === '=') {
        pos += 1;
        add(obj, key, value());
        continue;
      }
      // A block: `key "label1" "label2" { ... }` nests as key → label1 → label2 → body.
      const labels: string[] = [];
      while (peek()?.t === 'str') labels.push((toks[pos++] as Tok).v);
      expect('{');
      let inner: HclValue = body(true);
      for (const label of labels.reverse()) inner = { [label]: inner };
      if (labels.length === 0) {
        add(obj, key, inner);
      } else {
        const existing = obj[key];
        const target: HclObject = existing && typeof existing === 'object' && !Array.isArray(existing) ? existing : {};
        const [[label, content]] = Object.entries(inner) as [[string, HclValue]];
        add(target, label, content);
        obj[key] = target;
      }
    }
  }
  return body(false);
}
