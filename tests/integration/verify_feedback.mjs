// verify_feedback.mjs - checks a removal order's feedback (contract
// section 9) with the npm `jose` package, an implementation refgate did
// not write:
//
//   node verify_feedback.mjs JWKS.json ANSWER.json
//
// The answer's `feedback` must be a compact JWS that verifies (EdDSA)
// against a key of the gateway's JWKS (GET /v1/keys), with header typ
// refgate-feedback+json, whose payload holds exactly the answer's other
// members with the same values. Exit 0 when all hold; 1 with the reasons
// on stderr otherwise.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const NM = process.env.RG_NM || '/tmp/rg-test-node/node_modules';
const jose = createRequire(NM + '/')('jose');
const [jwksFile, answerFile] = process.argv.slice(2);
const jwks = JSON.parse(readFileSync(jwksFile, 'utf8'));
const answer = JSON.parse(readFileSync(answerFile, 'utf8'));
const bad = [];
try {
  const set = jose.createLocalJWKSet(jwks);
  const { payload, protectedHeader } = await jose.compactVerify(
    answer.feedback, set, { algorithms: ['EdDSA'] });
  if (protectedHeader.typ !== 'refgate-feedback+json')
    bad.push('typ ' + protectedHeader.typ);
  const signed = JSON.parse(Buffer.from(payload).toString('utf8'));
  const rest = { ...answer };
  delete rest.feedback;
  if (!isDeepStrictEqual(signed, rest))
    bad.push('signed members differ: ' + JSON.stringify(signed) + ' vs ' +
             JSON.stringify(rest));
} catch (e) {
  bad.push('does not verify: ' + e.message);
}
if (bad.length) {
  process.stderr.write(bad.join('; ') + '\n');
  process.exit(1);
}
