import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Checks a request's bearer token in constant time (both sides are hashed first, so neither the
 * content nor the length of the token leaks through timing). `allowQuery` also accepts `?token=`,
 * for what a browser opens itself (the page, its EventSource), which cannot send headers.
 */
export function createTokenCheck(token: string | undefined) {
  if (token === undefined) return (_req: IncomingMessage, _url: URL, _allowQuery: boolean) => true;
  const expected = digest(token);
  return (req: IncomingMessage, url: URL, allowQuery: boolean): boolean => {
    const header = req.headers.authorization;
    let candidate: string | null = null;
    if (typeof header === 'string' && /^Bearer /i.test(header)) candidate = header.slice(7).trim();
    else if (allowQuery) candidate = url.searchParams.get('token');
    return candidate !== null && timingSafeEqual(digest(candidate), expected);
  };
}
