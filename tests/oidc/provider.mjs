// The test OpenID Connect provider: panva's oidc-provider on 127.0.0.1:<port>, configured
// from a JSON file (argument 2) that tests/identity/conftest.py writes:
//   {"jwk": <RSA private JWK>, "clients": [{client_id, client_secret, redirect_uris}],
//    "accounts": {"anna": {<claims>}, ...}, "extra_claims": ["<claim name>", ...]}
// Its development interactions stand in for BankID and the municipality's login: the
// account id is typed as the login (any password), then consent is given.
import { readFileSync } from 'node:fs';

// The package as `make browser-deps` installs it into var/npm (an ES module's bare import
// would look beside this script).
const { default: Provider } = await import(
  new URL('../../var/npm/node_modules/oidc-provider/lib/index.js', import.meta.url)
);

const [port, configPath] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, 'utf8'));

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: config.clients.map((client) => ({
    ...client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [config.jwk] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  // Every claim of the scopes in the ID token too (the relying party reads only the ID token).
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    profile: ['given_name', 'family_name', 'name', 'preferred_username', 'groups', ...(config.extra_claims || [])],
    email: ['email'],
  },
  cookies: { keys: ['test-provider-cookie-key'] },
  async findAccount(ctx, id) {
    const claims = config.accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});
