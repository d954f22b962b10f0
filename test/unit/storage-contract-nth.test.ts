import { describe, expect, it } from 'vitest';
import { nth } from '../../src/testing/storage-contract/nth.js';

describe('storage contract support: nth', () => {
  it('returns the item at the index, falsy items included', () => {
    expect(nth(['1-0', '2-0'], 1)).toBe('2-0');
    expect(nth([0, ''], 0)).toBe(0);
    expect(nth([0, ''], 1)).toBe('');
  });

  it('fails clearly when a fixture made fewer items than the case uses', () => {
    expect(() => nth(['1-0'], 1)).toThrow('Expected an item at index 1, but the list has 1');
    expect(() => nth([], 0)).toThrow('Expected an item at index 0, but the list has 0');
  });
});
