// dsa-standin.mjs - a stand-in for the EU DSA Transparency Database's
// POST /api/v1/statements (the batch endpoint), for t_statements.
//
// Written from the database's published source, repository
// digital-services-act/transparency-database (commit 69e80a0b, June 2026):
//   routes/api_v1.php                    POST statements -> StatementMultipleAPIController
//   app/Http/Controllers/Api/v1/StatementMultipleAPIController.php
//                                        'statements' => required|array|between:1,100;
//                                        any invalid statement refuses the whole call (422,
//                                        errors keyed statement_<index>); puids checked
//                                        against the request and the stored ones before the
//                                        bulk insert (all or nothing); 201 {"statements":[...]}
//   app/Services/GroupedSubmissionsService.php  multi_rules(): every field rule below
//   app/Exceptions/PuidNotUniqueMultipleException.php
//                                        422 {"message", "errors": {"puid": [...],
//                                        "existing_puids": [...]}}
//   app/Models/Statement.php             the enum keys (decision, ground, content type,
//                                        category, keyword, source, automated)
//   app/Services/EuropeanCountriesService.php  EUROPEAN_COUNTRY_CODES (the EEA's 30)
// Authentication is Laravel Sanctum's: a missing or unknown Bearer token
// is 401 {"message":"Unauthenticated."}.
// Laravel semantics kept: "required" refuses absent, null, "" and [];
// max:N counts characters of a string (elements of an array); "in" on an
// array checks every element; members no rule names are dropped, not
// refused (this stand-in records them so that a test can see any leak).
// Simplified: content_language is checked as two upper-case letters (the
// database takes its list of ISO 639-1 codes); decision_ground_reference_url
// as an http(s) URL.
//
// Usage: node dsa-standin.mjs --token-file F --port-file F [--hold-post N --hold-marker F]
// With --hold-post N the Nth POST that stores statements stores them and then
// never answers (a client killed while waiting), after writing --hold-marker.
// GET /_state (no auth; test only) answers what it stored and saw.
import crypto from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs';

const arg = (n) => { const i = process.argv.indexOf('--' + n); return i > 0 ? process.argv[i + 1] : undefined; };
const token = fs.readFileSync(arg('token-file'), 'utf8').trim();
const holdPost = Number(arg('hold-post') || 0);
const holdMarker = arg('hold-marker');

const DECISION_VISIBILITIES = ['DECISION_VISIBILITY_CONTENT_REMOVED', 'DECISION_VISIBILITY_CONTENT_DISABLED',
	'DECISION_VISIBILITY_CONTENT_DEMOTED', 'DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED',
	'DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED', 'DECISION_VISIBILITY_CONTENT_LABELLED',
	'DECISION_VISIBILITY_OTHER'];
const DECISION_MONETARIES = ['DECISION_MONETARY_SUSPENSION', 'DECISION_MONETARY_TERMINATION', 'DECISION_MONETARY_OTHER'];
const DECISION_PROVISIONS = ['DECISION_PROVISION_PARTIAL_SUSPENSION', 'DECISION_PROVISION_TOTAL_SUSPENSION',
	'DECISION_PROVISION_PARTIAL_TERMINATION', 'DECISION_PROVISION_TOTAL_TERMINATION'];
const DECISION_ACCOUNTS = ['DECISION_ACCOUNT_SUSPENDED', 'DECISION_ACCOUNT_TERMINATED'];
const ACCOUNT_TYPES = ['ACCOUNT_TYPE_BUSINESS', 'ACCOUNT_TYPE_PRIVATE'];
const DECISION_GROUNDS = ['DECISION_GROUND_ILLEGAL_CONTENT', 'DECISION_GROUND_INCOMPATIBLE_CONTENT'];
const YES_NO = ['Yes', 'No'];
const CONTENT_TYPES = ['CONTENT_TYPE_APP', 'CONTENT_TYPE_AUDIO', 'CONTENT_TYPE_IMAGE', 'CONTENT_TYPE_PRODUCT',
	'CONTENT_TYPE_SYNTHETIC_MEDIA', 'CONTENT_TYPE_TEXT', 'CONTENT_TYPE_VIDEO', 'CONTENT_TYPE_OTHER'];
const CATEGORIES = ['STATEMENT_CATEGORY_ANIMAL_WELFARE', 'STATEMENT_CATEGORY_CONSUMER_INFORMATION',
	'STATEMENT_CATEGORY_CYBER_VIOLENCE', 'STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN',
	'STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS', 'STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH',
	'STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS',
	'STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS', 'STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE',
	'STATEMENT_CATEGORY_OTHER_VIOLATION_TC', 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS',
	'STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY', 'STATEMENT_CATEGORY_SCAMS_AND_FRAUD',
	'STATEMENT_CATEGORY_SELF_HARM', 'STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS', 'STATEMENT_CATEGORY_VIOLENCE'];
const KEYWORDS = ['KEYWORD_ADULT_SEXUAL_MATERIAL', 'KEYWORD_AGE_SPECIFIC_RESTRICTIONS',
	'KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS', 'KEYWORD_ANIMAL_HARM', 'KEYWORD_BIOMETRIC_DATA_BREACH',
	'KEYWORD_BULLYING_AGAINST_GIRLS', 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL',
	'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE', 'KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS',
	'KEYWORD_COORDINATED_HARM', 'KEYWORD_COPYRIGHT_INFRINGEMENT', 'KEYWORD_CYBER_BULLYING_INTIMIDATION',
	'KEYWORD_CYBER_HARASSMENT', 'KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN', 'KEYWORD_CYBER_INCITEMENT',
	'KEYWORD_CYBER_STALKING', 'KEYWORD_CYBER_STALKING_AGAINST_WOMEN', 'KEYWORD_DATA_FALSIFICATION',
	'KEYWORD_DEFAMATION', 'KEYWORD_DESIGN_INFRINGEMENT', 'KEYWORD_DISCRIMINATION',
	'KEYWORD_FEMALE_GENDERED_DISINFORMATION', 'KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT',
	'KEYWORD_GEOGRAPHICAL_REQUIREMENTS', 'KEYWORD_GOODS_SERVICES_NOT_PERMITTED',
	'KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS', 'KEYWORD_HATE_SPEECH', 'KEYWORD_HIDDEN_ADVERTISEMENT',
	'KEYWORD_HUMAN_EXPLOITATION', 'KEYWORD_HUMAN_TRAFFICKING', 'KEYWORD_ILLEGAL_ORGANIZATIONS',
	'KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING', 'KEYWORD_INAUTHENTIC_ACCOUNTS', 'KEYWORD_INAUTHENTIC_LISTINGS',
	'KEYWORD_INAUTHENTIC_USER_REVIEWS', 'KEYWORD_INCITEMENT_AGAINST_WOMEN', 'KEYWORD_INCITEMENT_VIOLENCE_HATRED',
	'KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS', 'KEYWORD_LANGUAGE_REQUIREMENTS',
	'KEYWORD_MISINFORMATION_DISINFORMATION', 'KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS',
	'KEYWORD_MISLEADING_INFO_GOODS_SERVICES', 'KEYWORD_MISSING_PROCESSING_GROUND',
	'KEYWORD_NON_CONSENSUAL_IMAGE_SHARING', 'KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN',
	'KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE', 'KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN',
	'KEYWORD_NONCOMPLIANCE_PRICING', 'KEYWORD_NUDITY', 'KEYWORD_PATENT_INFRINGEMENT', 'KEYWORD_PHISHING',
	'KEYWORD_PROHIBITED_PRODUCTS', 'KEYWORD_PYRAMID_SCHEMES', 'KEYWORD_RIGHT_TO_BE_FORGOTTEN',
	'KEYWORD_RISK_ENVIRONMENTAL_DAMAGE', 'KEYWORD_RISK_PUBLIC_HEALTH', 'KEYWORD_SELF_MUTILATION',
	'KEYWORD_STALKING', 'KEYWORD_SUICIDE', 'KEYWORD_TERRORIST_CONTENT', 'KEYWORD_TRADE_SECRET_INFRINGEMENT',
	'KEYWORD_TRADEMARK_INFRINGEMENT', 'KEYWORD_TRAFFICKING_WOMEN_GIRLS', 'KEYWORD_UNLAWFUL_SALE_ANIMALS',
	'KEYWORD_UNSAFE_CHALLENGES', 'KEYWORD_UNSAFE_PRODUCTS', 'KEYWORD_VIOLATION_EU_LAW',
	'KEYWORD_VIOLATION_NATIONAL_LAW', 'KEYWORD_OTHER'];
const SOURCE_TYPES = ['SOURCE_ARTICLE_16', 'SOURCE_TRUSTED_FLAGGER', 'SOURCE_TYPE_OTHER_NOTIFICATION', 'SOURCE_VOLUNTARY'];
const AUTOMATED_DECISIONS = ['AUTOMATED_DECISION_FULLY', 'AUTOMATED_DECISION_PARTIALLY', 'AUTOMATED_DECISION_NOT_AUTOMATED'];
const EEA = ['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IS',
	'IT', 'LI', 'LT', 'LU', 'LV', 'MT', 'NL', 'NO', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'];
const KNOWN = new Set(['decision_visibility', 'decision_visibility_other', 'decision_monetary',
	'decision_monetary_other', 'decision_provision', 'decision_account', 'account_type', 'category_specification',
	'category_specification_other', 'decision_ground', 'decision_ground_reference_url',
	'illegal_content_legal_ground', 'illegal_content_explanation', 'incompatible_content_ground',
	'incompatible_content_explanation', 'incompatible_content_illegal', 'content_type', 'content_type_other',
	'category', 'category_addition', 'territorial_scope', 'content_language', 'content_date', 'application_date',
	'end_date_account_restriction', 'end_date_monetary_restriction', 'end_date_service_restriction',
	'end_date_visibility_restriction', 'decision_facts', 'source_type', 'source_identity', 'automated_detection',
	'automated_decision', 'puid', 'content_id']);

const empty = (v) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
const chars = (v) => [...String(v)].length;
function ymd(v, lo, hi) {
	if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
	const d = new Date(v + 'T00:00:00Z');
	if (isNaN(d) || d.toISOString().slice(0, 10) !== v) return false;
	return (!lo || v >= lo) && (!hi || v <= hi);
}

// One statement against multi_rules(); {field: [messages]}.
function validate(s) {
	const e = {};
	const bad = (f, m) => { (e[f] = e[f] || []).push(m); };
	const inList = (f, list, nullable) => {
		const v = s[f];
		if (v === undefined || (nullable && v === null)) return;
		const vals = Array.isArray(v) ? v : [v];
		if (vals.some((x) => !list.includes(x))) bad(f, `The selected ${f} is invalid.`);
	};
	const isArray = (f) => { if (s[f] !== undefined && s[f] !== null && !Array.isArray(s[f])) bad(f, `The ${f} field must be an array.`); };
	const max = (f, n) => { if (!empty(s[f]) && chars(s[f]) > n) bad(f, `The ${f} field must not be greater than ${n} characters.`); };
	const required = (f) => { if (empty(s[f])) { bad(f, `The ${f} field is required.`); return false; } return true; };
	const requiredWithoutAll = (f, others) => { if (empty(s[f]) && others.every((o) => empty(s[o]))) bad(f, `The ${f} field is required when none of ${others.join(' / ')} are present.`); };

	isArray('decision_visibility'); inList('decision_visibility', DECISION_VISIBILITIES, true);
	requiredWithoutAll('decision_visibility', ['decision_monetary', 'decision_provision', 'decision_account']);
	const visOther = Array.isArray(s.decision_visibility) && s.decision_visibility.includes('DECISION_VISIBILITY_OTHER');
	if (visOther) { required('decision_visibility_other'); max('decision_visibility_other', 500); }
	inList('decision_monetary', DECISION_MONETARIES, true);
	requiredWithoutAll('decision_monetary', ['decision_visibility', 'decision_provision', 'decision_account']);
	if (s.decision_monetary === 'DECISION_MONETARY_OTHER') { required('decision_monetary_other'); max('decision_monetary_other', 500); }
	inList('decision_provision', DECISION_PROVISIONS, true);
	requiredWithoutAll('decision_provision', ['decision_visibility', 'decision_monetary', 'decision_account']);
	inList('decision_account', DECISION_ACCOUNTS, true);
	requiredWithoutAll('decision_account', ['decision_visibility', 'decision_monetary', 'decision_provision']);
	inList('account_type', ACCOUNT_TYPES, true);
	isArray('category_specification'); inList('category_specification', KEYWORDS, true);
	max('category_specification_other', 500);

	if (required('decision_ground')) inList('decision_ground', DECISION_GROUNDS, false);
	if (!empty(s.decision_ground_reference_url) && !/^https?:\/\/\S+$/.test(String(s.decision_ground_reference_url))) bad('decision_ground_reference_url', 'The decision_ground_reference_url field must be a valid URL.');
	max('decision_ground_reference_url', 500);
	if (s.decision_ground === 'DECISION_GROUND_ILLEGAL_CONTENT') {
		required('illegal_content_legal_ground'); max('illegal_content_legal_ground', 500);
		required('illegal_content_explanation'); max('illegal_content_explanation', 2000);
	}
	if (s.decision_ground === 'DECISION_GROUND_INCOMPATIBLE_CONTENT') {
		required('incompatible_content_ground'); max('incompatible_content_ground', 500);
		required('incompatible_content_explanation'); max('incompatible_content_explanation', 2000);
		inList('incompatible_content_illegal', YES_NO, false);
	}
	isArray('content_type');
	if (required('content_type')) inList('content_type', CONTENT_TYPES, false);
	if (Array.isArray(s.content_type) && s.content_type.includes('CONTENT_TYPE_OTHER')) { required('content_type_other'); max('content_type_other', 500); }
	if (required('category')) inList('category', CATEGORIES, false);
	isArray('category_addition'); inList('category_addition', CATEGORIES, false);
	isArray('territorial_scope'); inList('territorial_scope', EEA, true);
	if (!empty(s.content_language) && !/^[A-Z]{2}$/.test(String(s.content_language))) bad('content_language', 'The selected content_language is invalid.');
	if (required('content_date') && !ymd(s.content_date, '2000-01-01', '2038-01-01')) bad('content_date', 'The content date does not match the format YYYY-MM-DD.');
	if (required('application_date') && !ymd(s.application_date, '2020-01-01', '2038-01-01')) bad('application_date', 'The application date does not match the format YYYY-MM-DD.');
	for (const f of ['end_date_account_restriction', 'end_date_monetary_restriction', 'end_date_service_restriction', 'end_date_visibility_restriction'])
		if (!empty(s[f]) && !ymd(s[f], null, '2038-01-01')) bad(f, `The ${f} does not match the format YYYY-MM-DD.`);
	if (required('decision_facts')) max('decision_facts', 5000);
	if (required('source_type')) inList('source_type', SOURCE_TYPES, false);
	max('source_identity', 500);
	if (required('automated_detection')) inList('automated_detection', YES_NO, false);
	if (required('automated_decision')) inList('automated_decision', AUTOMATED_DECISIONS, false);
	if (required('puid')) {
		max('puid', 500);
		if (!/^[a-zA-Z0-9\-_]+$/.test(String(s.puid))) bad('puid', 'The puid format is invalid.');
	}
	if (s.content_id !== undefined && s.content_id !== null) {
		if (typeof s.content_id !== 'object' || Array.isArray(s.content_id)) bad('content_id', 'The content_id field must be an array.');
		else if (s.content_id['EAN-13'] !== undefined && !/^[0-9]{13}$/.test(String(s.content_id['EAN-13']))) bad('content_id.EAN-13', 'The content_id.EAN-13 format is invalid.');
	}
	return e;
}

const stored = new Map();        // puid -> the statement as stored
const acknowledged = new Set();  // puids whose 201 was written out
const state = { posts: [], unknown_fields: [], resent_after_ack: [], held: [] };
let storingPosts = 0;

function answer(res, status, body, onDone) {
	const text = JSON.stringify(body);
	res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
	res.end(text, onDone);
}

function post(req, res, text) {
	const auth = req.headers.authorization || '';
	if (auth !== 'Bearer ' + token) {
		state.posts.push({ status: 401, puids: [] });
		return answer(res, 401, { message: 'Unauthenticated.' });
	}
	let payload;
	try { payload = JSON.parse(text); } catch { payload = null; }
	const list = payload && payload.statements;
	if (!Array.isArray(list) || list.length < 1 || list.length > 100) {
		state.posts.push({ status: 422, puids: [] });
		return answer(res, 422, { message: 'The statements field must have between 1 and 100 items.',
			errors: { statements: ['The statements field must have between 1 and 100 items.'] } });
	}
	const puids = list.map((s) => (s && s.puid) || null);
	for (const p of puids) if (acknowledged.has(p)) state.resent_after_ack.push(p);
	const errors = {};
	list.forEach((s, i) => {
		if (!s || typeof s !== 'object' || Array.isArray(s)) { errors['statement_' + i] = { statement: ['must be an object'] }; return; }
		for (const k of Object.keys(s)) if (!KNOWN.has(k)) state.unknown_fields.push(k);
		const e = validate(s);
		if (Object.keys(e).length) errors['statement_' + i] = e;
	});
	if (Object.keys(errors).length) {
		state.posts.push({ status: 422, puids, errors });
		return answer(res, 422, { errors });
	}
	const seen = new Set();
	const dup = [];
	for (const p of puids) { if (seen.has(p) || stored.has(p)) dup.push(p); seen.add(p); }
	if (dup.length) {
		state.posts.push({ status: 422, puids, existing_puids: dup });
		const m = 'The platform identifier(s) are not all unique within this call.';
		return answer(res, 422, { message: m, errors: { puid: [m], existing_puids: dup } });
	}
	const now = new Date().toISOString().replace('T', ' ').slice(0, 19);
	const out = list.map((s) => {
		const st = { ...s, uuid: crypto.randomUUID(), created_at: now };
		stored.set(s.puid, st);
		return st;
	});
	storingPosts++;
	state.posts.push({ status: 201, puids });
	if (storingPosts === holdPost) {
		state.held.push(...puids);          // stored, never answered
		if (holdMarker) fs.writeFileSync(holdMarker, puids.join('\n') + '\n');
		return;
	}
	answer(res, 201, { statements: out }, () => { for (const p of puids) acknowledged.add(p); });
}

const server = http.createServer((req, res) => {
	const chunks = [];
	let size = 0;
	req.on('data', (c) => { size += c.length; if (size <= 16 * 1024 * 1024) chunks.push(c); });
	req.on('end', () => {
		if (req.method === 'GET' && req.url === '/_state')
			return answer(res, 200, { stored: Object.fromEntries(stored), ...state });
		if (req.method === 'POST' && req.url === '/api/v1/statements')
			return post(req, res, Buffer.concat(chunks).toString('utf8'));
		answer(res, 404, { message: 'Not Found' });
	});
});
server.listen(0, '127.0.0.1', () => {
	fs.writeFileSync(arg('port-file'), String(server.address().port));
});
