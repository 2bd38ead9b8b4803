// transcript.mjs - normalises a transcript of answers for t_privacy's
// differential test: what one principal received, with its own fresh ids
// and times replaced by tokens in order of first appearance (the same id
// twice gives the same token), so that two worlds can be compared byte
// for byte. Everything else (status codes, header names and values,
// cursors, field sets, statuses) is kept as it is, but for the receipt's
// log_index: contract section 11 puts the referral's position in the
// transparency log into the receipt, a count of every principal's
// referrals that any principal can also read from the signed checkpoint
// (SECURITY.md says why that is accepted). A receipt is therefore
// compared by its decoded payload, log_index masked (and the caller's own
// name and JWS digest, which differ between the worlds by design), and the
// Content-Length of an answer holding one by the length without it.
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
const RECEIPT = /"receipt":"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+"/g;
// per answer (blocks start with "== "): Content-Length less the receipt's
const sized = text.split(/^(?=== )/m).map((block) => {
	let len = 0;
	for (const m of block.matchAll(RECEIPT)) len += m[0].length;
	return len === 0 ? block : block.replace(/^(content-length: *)(\d+)/im,
		(m, h, v) => `${h}${Number(v) - len} + <receipt>`);
}).join("");
let out = sized
	// a receipt: its header and payload in clear, log_index masked (the
	// signature differs with every id and time)
	.replace(RECEIPT, (m, h, p) => {
		const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
		if ("log_index" in payload) payload.log_index = "<log_index>";
		// the caller's own name and the digest of its own bytes
		if ("principal" in payload) payload.principal = "<principal>";
		if ("jws_sha256" in payload) payload.jws_sha256 = "<sha256 of the JWS sent>";
		return `"receipt":<jws ${Buffer.from(h, "base64url").toString("utf8")} ${JSON.stringify(payload)}>`;
	})
	.replace(/\b([cr])_[A-Za-z0-9_-]{26}\b/g, (m, k) => token(k === "c" ? "case" : "referral", m))
	// times: the clock's (two worlds cannot share seconds); what they
	// mean is asserted in the scenario itself
	.replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b/g, "<time>")
	.replace(/^(etag: )(.*)$/gim, (m, h, v) => h + token("etag", v.trim()))
	.replace(/^(x-request-id: )([0-9a-f]{24})\s*$/gim, (m, h) => h + "<random 96-bit id>");
process.stdout.write(out);
