import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInside } from '../../src/host/path-guard.js';

describe('isInside', () => {
  it('admits the root and what is below it', () => {
    assert.equal(isInside('/home/al', '/home/al'), true);
    assert.equal(isInside('/home/al', '/home/al/project'), true);
    assert.equal(isInside('/', '/etc'), true);
  });

  it('refuses prefix collisions and parents', () => {
    assert.equal(isInside('/home/al', '/home/alice'), false);
    assert.equal(isInside('/home/al', '/home/al-x/y'), false);
    assert.equal(isInside('/home/al', '/home'), false);
    assert.equal(isInside('/home/al', '/'), false);
  });
});
