// Test 2: the chat example in Chromium, served by the dev gateway, validated by examples/chat.schema.json.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Gateway, launchBrowser, token, until } from './harness.mjs';

let gateway;
let browser;

before(async () => {
  gateway = await Gateway.start(); // dev mode adds channels.schemas room=examples/chat.schema.json
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await gateway?.stop();
});

async function openChat(user) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${user}] page error:`, error));
  await page.goto(`${gateway.origin}/#token=${token(user)}`);
  await page.locator('#state[data-state="connected"]').waitFor({ timeout: 15_000 });
  assert.equal(new URL(page.url()).hash, '', 'the token leaves the address bar');
  return { context, page };
}

const contents = (page) => page.locator('#messages li .content').allTextContents();

test('two people chat: messages, typing, reactions; markup stripped; an oversized message refused on screen', async () => {
  const alice = await openChat('alice');
  const bob = await openChat('bob');
  await alice.page.locator('#user').filter({ hasText: 'alice' }).waitFor();

  // Typing: bob sees alice typing.
  await alice.page.locator('#content').pressSequentially('hel');
  await bob.page.locator('#typing', { hasText: 'alice is typing' }).waitFor({ timeout: 10_000 });

  // A message with markup: both see plain text; nothing in the page became an element.
  await alice.page.locator('#content').fill('hello <script>window.pwned=1</script><b>bob</b> & <img src=x onerror="window.pwned=2">friends');
  await alice.page.locator('#composer button').click();
  for (const { page } of [alice, bob]) {
    await until(async () => (await contents(page)).includes('hello bob & friends'), 'the sanitised message');
    assert.equal(await page.locator('#messages b, #messages script, #messages img').count(), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
  }
  assert.equal(await alice.page.locator('#content').inputValue(), '', 'the composer clears once acked');

  // Bob answers; typing is cleared on his message.
  await bob.page.locator('#content').fill('hi alice');
  await bob.page.locator('#composer').evaluate((form) => form.requestSubmit());
  await until(async () => (await contents(alice.page)).includes('hi alice'), "bob's answer");

  // A reaction from bob on alice's message reaches alice.
  await bob.page.locator('#messages li', { hasText: 'hello bob' }).locator('.react').click();
  await alice.page.locator('#messages li', { hasText: 'hello bob' }).locator('.react', { hasText: '👍 1' }).waitFor({ timeout: 10_000 });

  // 1,001 characters: refused by the gateway's schema, shown on the page, nothing published.
  await alice.page.locator('#content').fill('x'.repeat(1001));
  await alice.page.locator('#composer button').click();
  await alice.page.locator('#notice', { hasText: 'invalid_message' }).waitFor({ timeout: 10_000 });
  assert.match(await alice.page.locator('#notice').textContent(), /content.*1000/);
  assert.equal(await alice.page.locator('#content').inputValue(), 'x'.repeat(1001), 'the text stays for editing');
  // Exactly 1,000 characters go through.
  await alice.page.locator('#content').fill('y'.repeat(1000));
  await alice.page.locator('#composer button').click();
  await until(async () => (await contents(bob.page)).includes('y'.repeat(1000)), 'the 1,000-character message');

  // Someone who joins later gets the room's history, reactions included.
  const carol = await openChat('carol');
  await until(async () => (await contents(carol.page)).join('|') === ['hello bob & friends', 'hi alice', 'y'.repeat(1000)].join('|'),
    'the history on join');
  await carol.page.locator('#messages li', { hasText: 'hello bob' }).locator('.react', { hasText: '👍 1' }).waitFor();

  // Rooms are separate: a message in another room does not show in the lobby.
  await carol.page.locator('nav button[data-room="general"]').click();
  await carol.page.locator('#room-title', { hasText: 'general' }).waitFor();
  await carol.page.locator('#content').fill('over here');
  await carol.page.locator('#composer button').click();
  await until(async () => (await contents(carol.page)).includes('over here'), 'the message in general');
  assert.ok(!(await contents(alice.page)).includes('over here'));

  for (const person of [alice, bob, carol]) await person.context.close();
});

test('a page without a token asks for one; a refused token is explained on the page', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${gateway.origin}/`);
  await page.locator('#token-form').waitFor();
  const expired = token('dave', { exp: Math.floor(Date.now() / 1000) - 60 });
  await page.locator('#token-input').fill(expired);
  await page.locator('#token-form button').click();
  await page.locator('#notice', { hasText: '401 expired' }).waitFor({ timeout: 15_000 });
  await context.close();
});
