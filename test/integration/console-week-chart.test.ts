// SPDX-License-Identifier: MIT
// The console's chart of a week of 1 Hz data (604,800 observations of two fields) in a real browser
// (Debian's chromium via playwright-core): "Last 24h" and "Last 7d" draw the series over the whole range
// from the server's downsampled points (rollup-backed, ADR 0027), no more points than asked. The time
// from the click to the chart drawn is printed for the README (a figure, not a pass mark: performance
// targets live in the bench). The week is loaded in SQL (a week through the pipeline would take minutes
// here) and rolled up the way migration 012 rolls up existing rows; its last event goes through the API.
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { consoleDistDir } from '../../api/routes/console.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

const chromiumPath = process.env.TMIDB_CHROMIUM ?? '/usr/bin/chromium';
const weekSeconds = 7 * 86_400;
const dayMs = 86_400_000;

let t: TestTmidb;
let browser: Browser;
let page: Page;
let targetId: string;
const browserErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(`${consoleDistDir}/index.html`))
    throw new Error('the console is not built: run npm run build');
  if (!existsSync(chromiumPath)) throw new Error(`no browser at ${chromiumPath}: run npm run setup`);
  t = await startTestTmidb('console_week');
  const res = await t.request('POST', '/v1/targets', { name: 'meter-1', kind: 'meter' });
  targetId = res.body.target_id;
  const last = await writeWeek();
  await eventually('the last event is projected', async () => {
    const state = await t.request('GET', `/v1/targets/${targetId}`);
    return Date.parse(state.body.state?.temp?.ts) === Date.parse(last);
  });
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') browserErrors.push(m.text());
  });
  page.on('pageerror', (err) => browserErrors.push(`page error: ${err.message}`));
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

/** A week of 1 Hz rows up to a minute ago, rolled up; then one event through the API. Returns its ts. */
async function writeWeek(): Promise<string> {
  const [{ now }] = (await t.sql<{ now: Date }>(`SELECT date_trunc('second', now()) AS now`)) as [
    { now: Date },
  ];
  const end = now.getTime() - 60_000;
  const from = new Date(end - weekSeconds * 1000).toISOString();
  await t.sql(
    `INSERT INTO tmi.ts_obs (target_id, ts, event_id, schema_id, payload, received_at)
     SELECT $1::uuid, $2::timestamptz + s * interval '1 second', gen_random_uuid(), 1,
            jsonb_build_object('temp', round((20 + 5 * sin(s / 3600.0) + (s % 97) / 97.0)::numeric, 2),
                               'hum', 40 + s % 30),
            $2::timestamptz + s * interval '1 second'
     FROM generate_series(0, $3::int - 1) s`,
    [targetId, from, weekSeconds],
  );
  await t.sql('SELECT tmi.obs_rollups_rebuild($1::uuid, $2::timestamptz, $3::timestamptz)', [
    targetId,
    from,
    new Date(end).toISOString(),
  ]);
  const ts = new Date(end).toISOString();
  const res = await t.request('POST', `/v1/targets/${targetId}/events`, {
    ts,
    data: { temp: 21.5, hum: 41 },
  });
  expect(res.status).toBe(202);
  return ts;
}

/** Clicks a range button; resolves with ms from the click to the chart drawn with that range's series. */
async function drawRange(label: string, spanMs: number): Promise<number> {
  const clicked = await page.evaluate((text) => {
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent === text)!;
    const at = performance.now();
    button.click();
    return { at, now: Date.now() };
  }, label);
  await page.waitForFunction(
    (since) => {
      const el = document.querySelector<HTMLElement>('[data-testid=series-chart]');
      return Number(el?.dataset.drawnFrom) <= since;
    },
    clicked.now - spanMs + 120_000,
    { timeout: 60_000 },
  );
  const drawnAt = await page.$eval('[data-testid=series-chart]', (el) =>
    Number((el as HTMLElement).dataset.drawnAt),
  );
  return drawnAt - clicked.at;
}

it('draws a day and a week of 1 Hz data from downsampled points, over the whole range', async () => {
  await page.goto(`${t.url}/console`);
  await page.fill('input[name=api-key]', t.adminKey);
  await page.click('button[type=submit]');
  await page.waitForSelector('header.top nav');
  await page.goto(`${t.url}/console#/target/${targetId}`);
  await page.waitForFunction(
    () => document.querySelector<HTMLElement>('[data-testid=series-chart]')?.dataset.drawnAt,
  );

  const figures: string[] = [];
  for (const [label, spanMs] of [
    ['Last 24h', dayMs],
    ['Last 7d', 7 * dayMs],
  ] as const) {
    const ms = await drawRange(label, spanMs);
    const chart = await page.$eval('[data-testid=series-chart]', (el) => ({
      ...(el as HTMLElement).dataset,
    }));
    const asked = 2 * 1366; // the console asks for two points per pixel of the window's width
    expect(Number(chart.points)).toBeGreaterThan(500);
    expect(Number(chart.points)).toBeLessThanOrEqual(2 * asked); // two fields
    expect(Date.now() - Date.parse(chart.xMin!)).toBeGreaterThanOrEqual(spanMs - 120_000);
    figures.push(`${label}: ${ms.toFixed(0)} ms, ${chart.points} points`);
  }
  console.log(`[console] chart of 1 Hz data, click → drawn (Chromium, localhost): ${figures.join('; ')}`);
  expect(browserErrors).toEqual([]);
}, 300_000);
