// Packyard's gateway: what nginx itself cannot work out (njs, loaded by the generated configuration).

const crypto = require('crypto');

// The SHA-256 of the request's credentials (Authorization header), hex: the key under which the gateway
// keeps identity's answer about them, so that no credential is written to the cache's files.
function credentialsDigest(r) {
    const header = r.headersIn.Authorization;
    return header ? crypto.createHash('sha256').update(header).digest('hex') : '';
}

export default { credentialsDigest };
