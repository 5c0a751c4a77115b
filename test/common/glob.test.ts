import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchGlob } from '../../src/common/glob.js';

describe('matchGlob', () => {
  it('matches the whole string literally when there is no wildcard', () => {
    assert.equal(matchGlob('refs/heads/main', 'refs/heads/main'), true);
    assert.equal(matchGlob('refs/heads/main', 'refs/heads/main2'), false);
    assert.equal(matchGlob('refs/heads/main', 'xrefs/heads/main'), false);
    assert.equal(matchGlob('main', 'refs/heads/main'), false);
  });

  it('keeps * inside one path segment', () => {
    assert.equal(matchGlob('refs/heads/*', 'refs/heads/main'), true);
    assert.equal(matchGlob('refs/heads/*', 'refs/heads/feature/x'), false);
    assert.equal(matchGlob('refs/tags/v*', 'refs/tags/v1.2.3'), true);
    assert.equal(matchGlob('acme/*', 'acme/api'), true);
    assert.equal(matchGlob('acme/*', 'acme/api/sub'), false);
  });

  it('lets ** cross segments', () => {
    assert.equal(matchGlob('refs/heads/**', 'refs/heads/feature/x'), true);
    assert.equal(matchGlob('refs/heads/**', 'refs/heads/main'), true);
    assert.equal(matchGlob('refs/**', 'refs/tags/main'), true);
    assert.equal(matchGlob('refs/heads/**', 'refs/tags/main'), false);
  });

  it('treats regex metacharacters and ? as literals', () => {
    assert.equal(matchGlob('a.b', 'a.b'), true);
    assert.equal(matchGlob('a.b', 'axb'), false);
    assert.equal(matchGlob('v?', 'v1'), false);
    assert.equal(matchGlob('v?', 'v?'), true);
    assert.equal(matchGlob('(a|b)', 'a'), false);
    assert.equal(matchGlob('[ab]', 'a'), false);
  });

  it('never matches a value with a newline or control character', () => {
    assert.equal(matchGlob('**', 'refs/heads/main\nrefs/heads/x'), false);
    assert.equal(matchGlob('refs/heads/*', 'refs/heads/ma\u0000in'), false);
    assert.equal(matchGlob('*', 'a\tb'), false);
  });
});
