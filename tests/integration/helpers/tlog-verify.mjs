// tlog-verify.mjs - an independent verifier of refgate's transparency log,
// written from RFC 9162 sections 2.1.3.2 (inclusion) and 2.1.4.2
// (consistency) and the C2SP signed-note / tlog-checkpoint formats, with
// node:crypto only (it shares no code with the gateway).
//
//   node tlog-verify.mjs --url https://localhost:PORT --cert C --key K --ca CA
//        --origin ORIGIN --notes DIR [--receipts DIR] [--all] [--tamper]
//
// DIR of --notes holds checkpoint notes as fetched (any file names);
// --receipts holds the 201 answers of the referrals (JSON with "receipt").
// It fetches the gateway's key from GET /v1/keys and checks:
//   - every note's signature line (key id and Ed25519 signature);
//   - notes of the same size have the same root;
//   - every receipt: its JWS signature, its payload's log_index, and the
//     inclusion of its payload (the leaf) in the largest note;
//   - with --all: the inclusion of every receipt's leaf in every note of
//     a larger size, and the consistency of every pair of notes;
//   - with --tamper: a proof with one bit flipped, another root and a
//     note with a flipped signature byte are each refused.
// Prints one JSON summary line; exits 0 when everything verified.
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import path from "node:path";

const args = {};
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i];
	if (a === "--all" || a === "--tamper") args[a.slice(2)] = true;
	else args[a.slice(2)] = process.argv[++i];
}
const agent = new https.Agent({
	cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key),
	ca: fs.readFileSync(args.ca), keepAlive: true, maxSockets: 4,
});

function get(p) {
	return new Promise((resolve, reject) => {
		https.get(args.url + p, { agent, servername: "localhost" }, (res) => {
			const chunks = [];
			res.on("data", (c) => chunks.push(c));
			res.on("end", () => resolve({ status: res.statusCode,
				body: Buffer.concat(chunks).toString("utf8") }));
		}).on("error", reject);
	});
}

// ---- RFC 9162 ----------------------------------------------------------
const sha256 = (...parts) => {
	const h = crypto.createHash("sha256");
	for (const p of parts) h.update(p);
	return h.digest();
};
const leafHash = (data) => sha256(Buffer.from([0]), data);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);

// 2.1.3.2: true when `proof` proves `hash` at `index` in the tree of `size`
// leaves with root `root`. BigInt keeps every size exact.
function verifyInclusion(index, size, hash, proof, root) {
	let fn = BigInt(index), sn = BigInt(size) - 1n;
	if (fn > sn) return false;
	let r = hash;
	for (const p of proof) {
		if (sn === 0n) return false;
		if ((fn & 1n) === 1n || fn === sn) {
			r = nodeHash(p, r);
			if ((fn & 1n) === 0n)
				while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
		} else {
			r = nodeHash(r, p);
		}
		fn >>= 1n; sn >>= 1n;
	}
	return sn === 0n && r.equals(root);
}

// 2.1.4.2: true when `proof` proves the tree of `first` leaves (root1) is a
// prefix of the tree of `second` leaves (root2).
function verifyConsistency(first, second, proof, root1, root2) {
	if (first < 1 || first > second) return false;
	if (first === second) return proof.length === 0 && root1.equals(root2);
	if (proof.length === 0) return false;
	let path = proof;
	if ((first & (first - 1)) === 0) path = [root1, ...proof];
	let fn = BigInt(first) - 1n, sn = BigInt(second) - 1n;
	while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
	let fr = path[0], sr = path[0];
	for (const c of path.slice(1)) {
		if (sn === 0n) return false;
		if ((fn & 1n) === 1n || fn === sn) {
			fr = nodeHash(c, fr);
			sr = nodeHash(c, sr);
			if ((fn & 1n) === 0n)
				while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
		} else {
			sr = nodeHash(sr, c);
		}
		fn >>= 1n; sn >>= 1n;
	}
	return sn === 0n && fr.equals(root1) && sr.equals(root2);
}

// ---- C2SP signed note --------------------------------------------------
// Returns {size, root} or throws.
function openNote(text, origin, pub, raw) {
	const sep = text.indexOf("\n\n");
	if (sep < 0) throw new Error("no blank line");
	const body = text.slice(0, sep + 1);
	const lines = body.split("\n");
	if (lines.length !== 4 || lines[0] !== origin) throw new Error("bad body");
	if (!/^(0|[1-9][0-9]*)$/.test(lines[1])) throw new Error("bad size");
	const root = Buffer.from(lines[2], "base64");
	if (root.length !== 32 || root.toString("base64") !== lines[2]) throw new Error("bad root");
	const keyId = sha256(Buffer.from(origin + "\n"), Buffer.from([1]), raw).subarray(0, 4);
	const sigs = text.slice(sep + 2).split("\n");
	if (sigs.pop() !== "") throw new Error("no final newline");
	let ok = false;
	for (const line of sigs) {
		const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
		if (!m) throw new Error("bad signature line");
		const blob = Buffer.from(m[2], "base64");
		if (m[1] !== origin || blob.length !== 68 || !blob.subarray(0, 4).equals(keyId)) continue;
		ok = ok || crypto.verify(null, Buffer.from(body), pub, blob.subarray(4));
	}
	if (!ok) throw new Error("no valid signature");
	return { size: Number(lines[1]), root };
}

const b64 = (a) => a.map((h) => Buffer.from(h, "base64"));
const flip = (proof) => proof.map((h, i) => {
	if (i !== 0) return h;
	const c = Buffer.from(h); c[0] ^= 8; return c;
});

async function main() {
	const out = { notes: 0, receipts: 0, inclusion: 0, consistency: 0, failures: [] };
	const fail = (what) => { if (out.failures.length < 20) out.failures.push(what); };
	const jwks = JSON.parse((await get("/v1/keys")).body);
	const jwk = jwks.keys[0];
	const pub = crypto.createPublicKey({ key: jwk, format: "jwk" });
	const raw = Buffer.from(jwk.x, "base64url");

	const notes = new Map();              // size -> root
	for (const f of fs.readdirSync(args.notes).sort()) {
		const text = fs.readFileSync(path.join(args.notes, f), "utf8");
		try {
			const n = openNote(text, args.origin, pub, raw);
			const seen = notes.get(n.size);
			if (seen && !seen.equals(n.root)) fail(`two roots for size ${n.size}`);
			notes.set(n.size, n.root);
			out.notes++;
		} catch (e) { fail(`note ${f}: ${e.message}`); }
	}
	const sizes = [...notes.keys()].filter((s) => s > 0).sort((a, b) => a - b);
	const largest = sizes[sizes.length - 1];

	const leaves = [];                    // index -> leaf data
	if (args.receipts) {
		for (const f of fs.readdirSync(args.receipts).sort()) {
			const ans = JSON.parse(fs.readFileSync(path.join(args.receipts, f), "utf8"));
			const [h, p, s] = ans.receipt.split(".");
			const payload = Buffer.from(p, "base64url");
			if (!crypto.verify(null, Buffer.from(`${h}.${p}`), pub, Buffer.from(s, "base64url")))
				fail(`receipt ${f}: bad signature`);
			const idx = JSON.parse(payload.toString("utf8")).log_index;
			if (!Number.isInteger(idx)) { fail(`receipt ${f}: no log_index`); continue; }
			if (leaves[idx]) fail(`two receipts at log_index ${idx}`);
			leaves[idx] = payload;
			out.receipts++;
		}
	}

	const inclusion = async (i, n) => {
		const r = await get(`/v1/log/inclusion?index=${i}&size=${n}`);
		if (r.status !== 200) { fail(`inclusion ${i}/${n}: HTTP ${r.status}`); return null; }
		const j = JSON.parse(r.body);
		if (j.index !== i || j.size !== n) fail(`inclusion ${i}/${n}: echoes ${j.index}/${j.size}`);
		return b64(j.hashes);
	};
	const consistency = async (m, n) => {
		const r = await get(`/v1/log/consistency?from=${m}&size=${n}`);
		if (r.status !== 200) { fail(`consistency ${m}/${n}: HTTP ${r.status}`); return null; }
		const j = JSON.parse(r.body);
		if (j.from !== m || j.size !== n) fail(`consistency ${m}/${n}: echoes ${j.from}/${j.size}`);
		return b64(j.hashes);
	};

	for (let i = 0; i < leaves.length; i++) {
		if (!leaves[i]) continue;
		const targets = args.all ? sizes.filter((n) => n > i) : [largest];
		for (const n of targets) {
			const proof = await inclusion(i, n);
			if (!proof) continue;
			if (verifyInclusion(i, n, leafHash(leaves[i]), proof, notes.get(n))) out.inclusion++;
			else fail(`inclusion of ${i} in ${n} does not verify`);
		}
	}
	const pairs = [];
	for (let a = 0; a < sizes.length; a++)
		for (let b = a; b < sizes.length; b++)
			if (args.all || b === a + 1 || b === sizes.length - 1) pairs.push([sizes[a], sizes[b]]);
	for (const [m, n] of pairs) {
		const proof = await consistency(m, n);
		if (!proof) continue;
		if (verifyConsistency(m, n, proof, notes.get(m), notes.get(n))) out.consistency++;
		else fail(`consistency ${m} -> ${n} does not verify`);
	}

	if (args.tamper) {
		out.tamper = {};
		const i = 0, n = largest;
		const proof = await inclusion(i, n);
		if (!proof || !leaves[i]) throw new Error("no proof or leaf to tamper with");
		const leaf = leafHash(leaves[i]);
		const otherRoot = notes.get(sizes[0] === n ? n : sizes[0]);
		out.tamper.inclusion_proof = proof.length && !verifyInclusion(i, n, leaf, flip(proof), notes.get(n)) ? "refused" : "accepted";
		out.tamper.inclusion_root = !verifyInclusion(i, n, leaf, proof, otherRoot) ? "refused" : "accepted";
		const m = sizes.find((s) => s > 1 && (s & (s - 1)) !== 0 && s < n) || sizes[0];
		const cproof = await consistency(m, n);
		if (!cproof) throw new Error("no consistency proof to tamper with");
		out.tamper.consistency_proof = !verifyConsistency(m, n, flip(cproof), notes.get(m), notes.get(n)) ? "refused" : "accepted";
		const bad = Buffer.from(notes.get(n)); bad[31] ^= 1;
		out.tamper.consistency_root = !verifyConsistency(m, n, cproof, notes.get(m), bad) ? "refused" : "accepted";
		const text = (await get("/v1/log/checkpoint")).body;
		let control = "accepted";
		try { openNote(text, args.origin, pub, raw); } catch { control = "refused"; }
		out.tamper.control = control;
		const at = text.lastIndexOf(" ") + 10;      // inside the signature
		const swapped = text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
		let sig = "accepted";
		try { openNote(swapped, args.origin, pub, raw); } catch { sig = "refused"; }
		out.tamper.signature = sig;
		let body = "accepted";
		const cs = text.split("\n")[1];
		try { openNote(text.replace(`\n${cs}\n`, `\n${Number(cs) + 1}\n`), args.origin, pub, raw); } catch { body = "refused"; }
		out.tamper.note_size = body;
	}
	console.log(JSON.stringify(out));
	agent.destroy();
	process.exit(out.failures.length ? 1 : 0);
}

main().catch((e) => { console.log(JSON.stringify({ error: e.message })); process.exit(2); });
