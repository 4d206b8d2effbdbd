#!/usr/bin/env node
// stripe-sign.mjs - print a Stripe-Signature header for a webhook payload,
// computed by Stripe's own code (the official `stripe` npm package,
// stripe.webhooks.generateTestHeaderString), so the server's verification is
// checked against Stripe's implementation rather than against ours.
//
//   node tests/doubles/stripe-sign.mjs PAYLOAD_FILE SECRET [SECRET...] [--timestamp UNIX_S] [--v0 SECRET]
//
// PAYLOAD_FILE is read as raw bytes ("-" = stdin) and signed as is. One
// SECRET gives "t=...,v1=..."; several give one v1 element per secret in
// the given order (what Stripe sends while an endpoint's secret is being
// rolled). --v0 adds a v0 element (a legacy scheme receivers must ignore).
// Prints the header on stdout, without a newline when stdout is not a tty.
// Needs `npm ci --prefix tests` (tests/package.json).
import fs from "node:fs";
import Stripe from "stripe";

const args = process.argv.slice(2);
const secrets = [];
let file = null;
let timestamp;
let v0 = null;
for (let i = 0; i < args.length; i++) {
	if (args[i] === "--timestamp") timestamp = Number(args[++i]);
	else if (args[i] === "--v0") v0 = args[++i];
	else if (file === null) file = args[i];
	else secrets.push(args[i]);
}
if (file === null || secrets.length === 0 || (timestamp !== undefined && !Number.isInteger(timestamp))) {
	process.stderr.write("usage: stripe-sign.mjs PAYLOAD_FILE SECRET [SECRET...] [--timestamp UNIX_S] [--v0 SECRET]\n");
	process.exit(2);
}
const payload = fs.readFileSync(file === "-" ? 0 : file).toString("utf8");
timestamp = timestamp ?? Math.floor(Date.now() / 1000);

const stripe = new Stripe("sk_test_signing_only");
const elements = [`t=${timestamp}`];
for (const secret of secrets) {
	const header = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
	elements.push(header.split(",").find((x) => x.startsWith("v1=")));
}
if (v0) {
	const header = stripe.webhooks.generateTestHeaderString({ payload, secret: v0, timestamp, scheme: "v0" });
	elements.push(header.split(",").find((x) => x.startsWith("v0=")));
}
const out = elements.join(",");
// Self-check with Stripe's verifier when one secret signed it.
if (secrets.length === 1) stripe.webhooks.signature.verifyHeader(payload, out, secrets[0], 1e9);
process.stdout.write(process.stdout.isTTY ? `${out}\n` : out);
