/**
 * The bundled chat UI in a real headless Chromium (Debian's, installed by .ci/run) against the
 * real gateway CLI and fake Claude: pair with the logged code, chat end to end encrypted, reload
 * and still be paired. Screenshots go to test-results/ as artifacts.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';

const ARTIFACTS = path.join(ROOT, 'test-results');
const CODE_LINE = /^webchannel pairing code: (\d{6}) /;

afterAll(stopAllGateways);

describe('the chat UI in Chromium', () => {
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    gw = await startTestGateway();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking'],
    });
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    const { survivors } = await gw.stop();
    expect(survivors).toEqual([]);
  });

  async function ask(question: string, answer: string): Promise<void> {
    await page.fill('#message', question);
    await page.press('#message', 'Enter');
    await page.locator('#transcript .msg.assistant .final', { hasText: answer }).waitFor();
  }

  it('pairs with the printed code and renders the answer as it streams', async () => {
    await page.goto(gw.httpUrl);
    await page.locator('#pairing-form').waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'webchannel-pairing.png') });
    const code = CODE_LINE.exec((await gw.waitForLog((l) => CODE_LINE.test(l.msg))).msg)![1]!;
    await page.fill('#pairing-code', code);
    await page.click('#pairing-form button[type=submit]');
    await page.locator('#chat-form').waitFor();
    await expect.poll(() => page.locator('#e2e').isVisible()).toBe(true);
    await ask('hello from chromium', 'echo: hello from chromium');
    // Progress chunks render in the same answer, before the final text.
    await ask('[[chunks:2]]', 'done');
    const streamed = page.locator('#transcript .msg.assistant').last();
    expect(await streamed.locator('.progress').allTextContents()).toEqual(['chunk 1 ', 'chunk 2 ']);
    await page.screenshot({ path: path.join(ARTIFACTS, 'webchannel-chat.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('asks for approval and passes the answer to Claude', async () => {
    await page.fill('#message', '[[permission:Bash]]');
    await page.press('#message', 'Enter');
    await page.locator('#transcript .msg.approval', { hasText: 'Bash' }).getByRole('button', { name: 'Allow' }).click();
    await page.locator('#transcript .msg.assistant .final', { hasText: 'permission allow for Bash' }).waitFor();
    expect(await page.locator('#transcript .msg.approval').last().textContent()).toContain('approved');
  });

  it('is still paired after a reload, with E2E', async () => {
    await page.reload();
    await page.locator('#chat-form').waitFor();
    expect(await page.locator('#pairing-form').isHidden()).toBe(true);
    await expect.poll(() => page.locator('#e2e').isVisible()).toBe(true);
    await ask('after reload', 'echo: after reload');
    await page.screenshot({ path: path.join(ARTIFACTS, 'webchannel-after-reload.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
