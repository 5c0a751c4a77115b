import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayLines, displaySafeJson, displayText } from '../../src/common/display-text.js';

describe('displayText', () => {
  it('replaces every bidi, zero-width and separator character named in security 11 with <U+XXXX>', () => {
    const named = [0x061c, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff, 0x2028, 0x2029];
    for (const cp of named) {
      const ch = String.fromCodePoint(cp);
      const hex = cp.toString(16).toUpperCase().padStart(4, '0');
      assert.equal(displayText(`a${ch}b`), `a<U+${hex}>b`, `U+${hex}`);
    }
  });

  it('also escapes other invisible format characters, controls, tag characters and lone surrogates', () => {
    assert.equal(displayText('x\u2060y\u00ADz'), 'x<U+2060>y<U+00AD>z');
    assert.equal(displayText('tab\there\nnl\u0085'), 'tab<U+0009>here<U+000A>nl<U+0085>');
    assert.equal(displayText('tag\u{E0041}'), 'tag<U+E0041>');
    assert.equal(displayText('half\uD800'), 'half<U+D800>');
  });

  it('leaves ordinary text in any script alone', () => {
    for (const text of ['refs/heads/main', 'café', 'שלום', 'مرحبا', '日本語', 'deploy 👍', 'a<b>&c']) assert.equal(displayText(text), text);
  });
});

describe('displayLines', () => {
  it('keeps line breaks and escapes within each line', () => {
    assert.equal(displayLines('one\u202E\ntwo\u200B'), 'one<U+202E>\ntwo<U+200B>');
  });
});

describe('displaySafeJson', () => {
  it('prints none of the characters yet parses back to the exact value', () => {
    const value = { ref: 'refs/heads/x\u202Ey', reason: 'a\u200B\u2028b\u{E0041}\u0085', list: ['\uFEFF'], n: 1 };
    const text = displaySafeJson(value, 2);
    assert.doesNotMatch(text, /[\u202E\u200B\u2028\uFEFF\u0085]|\u{E0041}/u);
    assert.match(text, /\\u202e/);
    assert.match(text, /\\udb40\\udc41/);
    assert.deepEqual(JSON.parse(text), value);
    assert.equal(displaySafeJson({ a: 'plain' }, 2), JSON.stringify({ a: 'plain' }, null, 2));
  });
});
