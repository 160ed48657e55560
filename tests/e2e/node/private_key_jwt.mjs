// node openid-client (panva) gets a token with private_key_jwt: RFC 8414
// discovery, then the client credentials grant; prints the access token.
//   ISSUER, CLIENT_ID, PRIVATE_KEY_PEM (PKCS#8, EC P-256) from the environment
import * as client from 'openid-client'
import { importPKCS8 } from 'jose'

const privateKey = await importPKCS8(process.env.PRIVATE_KEY_PEM, 'ES256')
const config = await client.discovery(
  new URL(process.env.ISSUER),
  process.env.CLIENT_ID,
  {},
  client.PrivateKeyJwt(privateKey),
  { algorithm: 'oauth2', execute: [client.allowInsecureRequests] },
)
for (let i = 0; i < 2; i++) { // a fresh assertion (jti) each time
  const tokens = await client.clientCredentialsGrant(config, { scope: 'export' })
  console.log(tokens.access_token)
}
