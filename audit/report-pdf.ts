import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

/**
 * The HTML report printed to PDF by headless Chromium (Debian's, found where the browser tests find
 * it; `MANDATE_CHROMIUM` elsewhere): A4, backgrounds printed so the banner keeps its colour. The page
 * is loaded from a string with no network, so nothing outside it can enter the PDF.
 */
export class ChromiumMissing extends Error {
  override name = 'ChromiumMissing';
}

export async function renderPdf(html: string, chromiumPath: string): Promise<Buffer> {
  if (!existsSync(chromiumPath)) {
    throw new ChromiumMissing(
      `PDF reports need Chromium, and there is none at ${chromiumPath}: install Debian's (apt-get install -y chromium) or set MANDATE_CHROMIUM to a Chromium binary`,
    );
  }
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 60_000,
  });
  try {
    const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
    const page = await context.newPage();
    await page.setContent(html, { waitUntil: 'load' });
    return await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
  } finally {
    await browser.close();
  }
}
