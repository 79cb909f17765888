import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError } from '../../../src/core/auth';
import { toAuthError } from '../../../src/core/auth/errors';
import type { FailureContext } from '../../../src/core/auth/errors';

const context = (extra: Partial<FailureContext> = {}): FailureContext => ({
  operation: 'refresh',
  loginHost: 'https://login.microsoftonline.com',
  tenant: 'contoso.onmicrosoft.com',
  clientId: '80faf920-1908-4b52-b5ef-a8e7bedfc67a',
  serverId: '6dae42f8-4368-4678-94ff-3960e28e3630',
  failures: [],
  ...extra,
});

const msalError = (errorCode: string, errorMessage = '', extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${errorCode}: See https://aka.ms/msal.js.errors#${errorCode}`), { errorCode, errorMessage, ...extra });

describe('toAuthError', () => {
  it('reads the OAuth error MSAL keeps as the message of a failed device-code poll', () => {
    assert.equal(toAuthError(msalError('post_request_failed', 'authorization_declined'), context({ operation: 'signIn' })).kind, 'declined');
    assert.equal(toAuthError(msalError('post_request_failed', 'expired_token'), context({ operation: 'signIn' })).kind, 'codeExpired');
  });

  it('lets the AADSTS code seen on the wire decide over the OAuth error', () => {
    const failures: FailureContext['failures'] = [{ type: 'http', host: 'login.microsoftonline.com', status: 400, error: 'invalid_grant', errorCodes: [65001] }];
    const error = toAuthError(msalError('invalid_grant'), context({ failures }));
    assert.equal(error.kind, 'consentRequired');
    assert.equal(error.code, 'AADSTS65001');
  });

  it('finds an AADSTS code in the text when the wire was not seen', () => {
    const error = toAuthError(msalError('invalid_grant', 'AADSTS53003: Access has been blocked by Conditional Access policies.'), context());
    assert.equal(error.kind, 'blocked');
  });

  it('treats a replayed 5xx (only numbers as its code) as a retryable platform error', () => {
    const error = toAuthError(msalError('50000'), context());
    assert.equal(error.kind, 'platformError');
    assert.equal(error.retryable, true);
  });

  it('maps transport failures to unreachable and malformed answers to a platform error, both retryable', () => {
    const refused = toAuthError(msalError('network_error'), context({ failures: [{ type: 'transport', host: 'login.microsoftonline.com', code: 'ENOTFOUND' }] }));
    assert.deepEqual([refused.kind, refused.retryable, refused.code], ['unreachable', true, 'ENOTFOUND']);
    const malformed = toAuthError(msalError('network_error'), context({ failures: [{ type: 'malformed', host: 'login.microsoftonline.com', status: 200 }] }));
    assert.deepEqual([malformed.kind, malformed.retryable], ['platformError', true]);
  });

  it('says the tenant was not found when discovery answers 400', () => {
    const failures: FailureContext['failures'] = [{ type: 'http', host: 'login.microsoftonline.com', status: 400, error: 'invalid_tenant', errorCodes: [] }];
    const error = toAuthError(msalError('endpoints_resolution_error'), context({ failures }));
    assert.equal(error.kind, 'badTenant');
    assert.match(error.message, /contoso\.onmicrosoft\.com/);
  });

  it('never shows MSAL\'s link text and keeps AuthError as it is', () => {
    for (const code of ['no_tokens_found', 'interaction_required', 'something_new', 'token_parsing_error']) {
      assert.doesNotMatch(toAuthError(msalError(code, `See https://aka.ms/msal.js.errors#${code}`), context()).message, /aka\.ms/);
    }
    const original = new AuthError('notSignedIn', 'x');
    assert.equal(toAuthError(original, context()), original);
  });

  // Each of these used to end in a generic or wrong message ("tenant not found", "the saved sign-in is no
  // longer valid"), which sends a person to the wrong fix.
  const onTheWire = (code: number, error = 'invalid_grant'): FailureContext['failures'] => [{ type: 'http', host: 'login.microsoftonline.com', status: 400, error, errorCodes: [code] }];
  for (const [code, kind, remedy, words] of [
    [90072, 'notInTenant', 'signInAgain', /not a member of the tenant "contoso\.onmicrosoft\.com".*another account/],
    [50105, 'notAssigned', 'askAdmin', /not assigned.*80faf920-1908-4b52-b5ef-a8e7bedfc67a/],
    [500011, 'serverAppMissing', 'askAdmin', /server app 6dae42f8-4368-4678-94ff-3960e28e3630.*not.*tenant "contoso\.onmicrosoft\.com"/],
    [700016, 'clientAppProblem', 'askAdmin', /client app 80faf920-1908-4b52-b5ef-a8e7bedfc67a was not found in the tenant/],
    [7000218, 'clientAppProblem', 'askAdmin', /public client flows/],
    [53000, 'blocked', 'askAdmin', /compliant|managed device/],
    [53003, 'blocked', 'askAdmin', /Conditional Access/],
    [50076, 'interactionRequired', 'signInAgain', /multi-factor|additional verification/i],
    [50079, 'interactionRequired', 'signInAgain', /register|security information/i],
  ] as const) {
    it(`names the cause and the fix for AADSTS${code}`, () => {
      const error = toAuthError(msalError('invalid_grant'), context({ failures: onTheWire(code) }));
      assert.equal(error.kind, kind);
      assert.equal(error.code, `AADSTS${code}`);
      assert.equal(error.remedy.kind, remedy);
      assert.equal(error.retryable, false);
      assert.match(error.message, words);
      assert.doesNotMatch(error.message, /no longer valid|was not found at/);
    });
  }

  it('carries the platform\'s Retry-After in a remedy that waits', () => {
    const failures: FailureContext['failures'] = [{ type: 'http', host: 'login.microsoftonline.com', status: 503, error: 'temporarily_unavailable', errorCodes: [], retryAfterSeconds: 7 }];
    const error = toAuthError(msalError('temporarily_unavailable'), context({ failures }));
    assert.deepEqual(error.remedy, { kind: 'wait', retryAfterMs: 7000 });
  });
});
