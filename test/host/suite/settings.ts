// What the outer smoke test hands the in-host suite through the environment.

/** Folder with the test CA's server.key and server.crt, which the browser trusts for this run. */
export const smokeTlsVariable = 'AKS_SIGNIN_SMOKE_TLS_DIR';
