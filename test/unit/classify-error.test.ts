import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors/connection-error.js';
import { NoGroupError } from '../../src/errors/no-group-error.js';
import {
  errorCode,
  errorText,
  exitReasonOf,
  isNoGroup,
  isRetriable,
} from '../../src/machines/classify-error.js';

// The one error classifier, on every shape an error can take (mutation testing: the machine tests only
// ever pass streamvisor errors, so the guards against null, primitives and missing fields were unasserted).

describe('classify-error', () => {
  it.each([
    [null, undefined],
    [undefined, undefined],
    ['NOGROUP', undefined],
    [42, undefined],
    [{}, undefined],
    [{ code: 'NOGROUP' }, 'NOGROUP'],
    [{ code: 7 }, '7'],
    [Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'ECONNRESET'],
  ])('errorCode(%o) is %o', (error, code) => {
    expect(errorCode(error)).toBe(code);
  });

  it('isNoGroup only for the NOGROUP code', () => {
    expect(isNoGroup({ code: 'NOGROUP' })).toBe(true);
    expect(isNoGroup(new NoGroupError('s', 'g'))).toBe(true);
    expect(isNoGroup({ code: 'NOGROUPS' })).toBe(false);
    expect(isNoGroup(null)).toBe(false);
    expect(isNoGroup('NOGROUP')).toBe(false);
  });

  it.each([
    [null, false],
    [undefined, false],
    ['retriable', false],
    [{}, false],
    [{ retriable: 'yes' }, false],
    [{ retriable: false }, false],
    [{ retriable: true }, true],
  ])('isRetriable(%o) is %o', (error, expected) => {
    expect(isRetriable(error)).toBe(expected);
  });

  it('isRetriable for a lost connection, not for a missing group', () => {
    expect(isRetriable(new ConnectionError('gone'))).toBe(true);
    expect(isRetriable(new NoGroupError('s', 'g'))).toBe(false);
  });

  it('exitReasonOf: nogroup for NOGROUP, fatal for anything else', () => {
    expect(exitReasonOf({ code: 'NOGROUP' })).toBe('nogroup');
    expect(exitReasonOf({ code: 'WRONGTYPE' })).toBe('fatal');
    expect(exitReasonOf(null)).toBe('fatal');
  });

  it("errorText: the message, the error's name when the message is empty, else String()", () => {
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText(new TypeError(''))).toBe('TypeError');
    expect(errorText('plain')).toBe('plain');
    expect(errorText(42)).toBe('42');
    expect(errorText({ message: 'not an Error' })).toBe('[object Object]');
  });
});
