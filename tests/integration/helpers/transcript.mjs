// transcript.mjs - normalises a transcript of answers for t_privacy's
// differential test: what one principal received, with its own fresh ids
// and times replaced by tokens in order of first appearance (the same id
// twice gives the same token), so that two worlds can be compared byte
// for byte. Everything else (status codes, header names and values,
// cursors, field sets, statuses) is kept as it is.
//   node transcript.mjs FILE  -> the normalised transcript on stdout
import { readFileSync } from "node:fs";

const text = readFileSync(process.argv[2], "utf8");
const tokens = new Map();
const token = (kind, v) => {
	const key = kind + ":" + v;
	if (!tokens.has(key))
		tokens.set(key, `<${kind}${[...tokens.keys()].filter(k => k.startsWith(kind + ":")).length}>`);
	return tokens.get(key);
};
let out = text
	// a receipt is a JWS over the ids and times: replaced whole
	.replace(/"receipt":"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"/g, '"receipt":"<jws>"')
	.replace(/\b([cr])_[A-Za-z0-9_-]{22}\b/g, (m, k) => token(k === "c" ? "case" : "referral", m))
	// times: the clock's (two worlds cannot share seconds); what they
	// mean is asserted in the scenario itself
	.replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b/g, "<time>")
	.replace(/^(etag: )(.*)$/gim, (m, h, v) => h + token("etag", v.trim()))
	.replace(/^(x-request-id: )([0-9a-f]{24})\s*$/gim, (m, h) => h + "<random 96-bit id>");
process.stdout.write(out);
