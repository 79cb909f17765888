import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, authorityFor, resolveCloud, scopesFor } from '../../../src/core/auth';

const serverId = '6dae42f8-4368-4678-94ff-3960e28e3630';
const clientId = '80faf920-1908-4b52-b5ef-a8e7bedfc67a';

describe('resolveCloud', () => {
  it('maps each client-go environment name to its login host', () => {
    assert.deepEqual(resolveCloud('AzurePublicCloud'), { name: 'AzurePublicCloud', loginHost: 'https://login.microsoftonline.com' });
    assert.deepEqual(resolveCloud('AzureChinaCloud'), { name: 'AzureChinaCloud', loginHost: 'https://login.chinacloudapi.cn' });
    assert.deepEqual(resolveCloud('AzureUSGovernmentCloud'), { name: 'AzureUSGovernmentCloud', loginHost: 'https://login.microsoftonline.us' });
  });

  it('matches names case-insensitively, as client-go does', () => {
    assert.equal(resolveCloud('azurechinacloud').name, 'AzureChinaCloud');
    assert.equal(resolveCloud(' AZUREUSGOVERNMENTCLOUD ').loginHost, 'https://login.microsoftonline.us');
  });

  it('treats unknown and empty names as the public cloud', () => {
    assert.equal(resolveCloud('MarsCloud').loginHost, 'https://login.microsoftonline.com');
    assert.equal(resolveCloud('').name, 'AzurePublicCloud');
  });

  it('lets an https authority host replace the login host, without a trailing slash', () => {
    assert.deepEqual(resolveCloud('AzureChinaCloud', 'https://127.0.0.1:8443/'), { name: 'AzureChinaCloud', loginHost: 'https://127.0.0.1:8443' });
    assert.equal(resolveCloud('AzurePublicCloud', '').loginHost, 'https://login.microsoftonline.com');
  });

  it('refuses an authority host that is not https', () => {
    assert.throws(() => resolveCloud('AzurePublicCloud', 'http://127.0.0.1:8080'), (error: unknown) => error instanceof AuthError && /must use https/.test(error.message));
    assert.throws(() => resolveCloud('AzurePublicCloud', 'not a url'), AuthError);
  });
});

describe('authorityFor', () => {
  it('uses the tenant id, or organizations when there is none', () => {
    assert.equal(authorityFor({ environment: 'AzurePublicCloud', tenantId: 'contoso.onmicrosoft.com', clientId, serverId }), 'https://login.microsoftonline.com/contoso.onmicrosoft.com');
    assert.equal(authorityFor({ environment: 'AzurePublicCloud', clientId, serverId }), 'https://login.microsoftonline.com/organizations');
    assert.equal(authorityFor({ environment: 'AzurePublicCloud', tenantId: '  ', clientId, serverId }), 'https://login.microsoftonline.com/organizations');
  });

  it('follows the cloud and the authority host', () => {
    const tenantId = '3f2a6c1e-8b4d-4e7a-9c51-2d0f6b8a7e10';
    assert.equal(authorityFor({ environment: 'AzureUSGovernmentCloud', tenantId, clientId, serverId }), `https://login.microsoftonline.us/${tenantId}`);
    assert.equal(authorityFor({ environment: 'AzurePublicCloud', tenantId, clientId, serverId, authorityHost: 'https://127.0.0.1:9443' }), `https://127.0.0.1:9443/${tenantId}`);
  });
});

describe('scopesFor', () => {
  it('asks for the server app by its id by default and in config-mode 1', () => {
    assert.deepEqual(scopesFor({ environment: 'AzurePublicCloud', clientId, serverId }), [`${serverId}/.default`]);
    assert.deepEqual(scopesFor({ environment: 'AzurePublicCloud', clientId, serverId, configMode: '1' }), [`${serverId}/.default`]);
  });

  it('asks for the service principal name in config-mode 0', () => {
    assert.deepEqual(scopesFor({ environment: 'AzurePublicCloud', clientId, serverId, configMode: '0' }), [`spn:${serverId}/.default`]);
  });

  it('does not double a prefix or a /.default suffix already present', () => {
    assert.deepEqual(scopesFor({ environment: 'AzurePublicCloud', clientId, serverId: `spn:${serverId}`, configMode: '0' }), [`spn:${serverId}/.default`]);
    assert.deepEqual(scopesFor({ environment: 'AzurePublicCloud', clientId, serverId: `${serverId}/.default` }), [`${serverId}/.default`]);
  });
});
