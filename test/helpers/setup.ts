// Global test setup (vitest `setupFiles`): the leak guard for every test file. It runs before the
// file's own hooks are registered, so its afterEach/afterAll run after theirs (vitest runs after-hooks
// in reverse order): a file's own cleanup always comes first.
import { afterAll, afterEach, beforeEach } from 'vitest';
import { beginTest, expectNoFileLeaks, expectNoLeaks, installLeakGuard } from './leak-guard.js';

installLeakGuard();
beforeEach(() => beginTest());
afterEach(() => expectNoLeaks());
afterAll(() => expectNoFileLeaks());
