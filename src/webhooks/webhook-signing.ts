// Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp`
// and `webhook-signature` headers, HMAC-SHA256 with the endpoint's `whsec_` secret, through the
// `standardwebhooks` package. While a rotated-out secret is in its grace period the message carries
// a signature with each secret, so a receiver that still holds the old one keeps verifying.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Headers for `body` sent as message `messageId` at `at`, signed with every secret given. */
export function signMessage(messageId: string, at: Date, body: string, secrets: string[]): SignedHeaders {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(messageId, at, body));
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
