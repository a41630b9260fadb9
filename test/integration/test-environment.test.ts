import { expect, inject, test } from 'vitest';
test('worker trusts local CA and sees azurite', () => {
  expect(process.env.NODE_EXTRA_CA_CERTS).toMatch(/ca\.pem$/);
  expect(inject('storageConnectionString')).toContain('TableEndpoint=http://127.0.0.1:');
});
