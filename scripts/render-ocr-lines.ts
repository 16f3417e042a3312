/**
 * Renders the OCR demo dataset, data/ocr-lines/: text lines (common Chinese words, digits,
 * Latin words, and mixes of them) drawn by headless Chromium in several fonts, sizes and colours,
 * 48 pixels high like the crops that PaddleOCR's recognizer reads, saved as grayscale PNGs with
 * their labels. The list of lines and every style choice are deterministic, so re-rendering with
 * the same fonts gives the same labels (pixels may differ slightly between Chromium versions).
 *
 * Needs /usr/bin/chromium and the Noto CJK fonts: `bash scripts/setup-cli-tests.sh --fonts`.
 * Run: `pnpm exec tsx --conditions=@quantsim/source scripts/render-ocr-lines.ts`
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// Modules under packages/data resolve fast-png from the data package, and those under packages/cli
// playwright-core from the CLI package, which hold them.
import { chromiumMissingReason, launchChromium } from '../packages/cli/test/support/headless-chromium.js';
import { decodePngImage, encodeGrayscalePng } from '../packages/data/src/image/png-image.js';
import { loadOcrDictionary } from '../packages/data/src/ocr/ocr-dictionary.js';
import { OCR_LINES_FORMAT, type OcrLineLabel, type OcrLinesLabels } from '../packages/data/src/ocr/ocr-lines-dataset.js';
import { seededRandom } from '../test-support/random.js';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'ocr-lines');
const HEIGHT = 48;

// Everyday words made of frequent characters, as on signs, receipts and forms.
const WORDS = [
  '中国',
  '北京',
  '上海',
  '广州',
  '深圳',
  '学生',
  '老师',
  '今天',
  '明天',
  '天气',
  '很好',
  '我们',
  '朋友',
  '工作',
  '学习',
  '时间',
  '电话',
  '电脑',
  '手机',
  '公司',
  '银行',
  '医院',
  '学校',
  '大学',
  '图书馆',
  '火车站',
  '机场',
  '超市',
  '商店',
  '饭店',
  '欢迎光临',
  '谢谢',
  '早上好',
  '晚上',
  '下午',
  '春天',
  '夏天',
  '秋天',
  '冬天',
  '风景',
  '美丽',
  '城市',
  '人民',
  '国家',
  '世界',
  '和平',
  '发展',
  '经济',
  '文化',
  '历史',
  '科学',
  '技术',
  '数据',
  '信息',
  '网络',
  '安全',
  '出口',
  '入口',
  '停车场',
  '禁止吸烟',
  '小心地滑',
  '请勿打扰',
  '营业时间',
  '价格',
  '优惠',
  '新年快乐',
  '生日快乐',
  '身体健康',
  '水果',
  '苹果',
  '米饭',
  '面条',
  '牛奶',
  '咖啡',
  '鸡蛋',
  '电影院',
  '地铁站',
  '公交车',
  '出租车',
  '东方',
  '明月',
  '江南',
  '山水',
  '长城',
  '黄河',
  '高速公路',
  '服务区',
  '会议室',
  '办公室',
  '总经理',
  '联系人',
  '地址',
  '邮编',
  '日期',
  '数量',
  '单价',
  '合计',
  '发票',
  '收据',
  '订单',
  '客户',
  '产品',
  '质量',
  '管理',
  '市场',
  '中心',
  '人口',
];
const LATIN = [
  'Hello World',
  'OPEN',
  'Welcome',
  'Coffee Shop',
  'Exit',
  'Total',
  'Invoice',
  'Station',
  'Airport',
  'Hotel',
  'Quantization',
  'Model',
  'Python',
  'Data',
  'Service',
  'Market',
  'Street',
  'Garden',
  'Office',
  'Bank',
  'Thank you',
  'Good Morning',
  'Open Daily',
  'Free WiFi',
  'Parking',
  'SALE',
  'Menu',
  'Tea House',
  'Taxi',
  'Metro',
];
const UNITS = ['元', '件', '个', '公斤', '号', '楼', '层', '路', '年', '天'];

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)] as T;
}
const digits = (rnd: () => number, n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
const pad2 = (v: number) => String(v).padStart(2, '0');

/** The 160 lines, in a fixed order: 64 Chinese, 40 Chinese with digits, 28 digits, 28 Latin. */
function textLines(): { text: string; kind: string }[] {
  const rnd = seededRandom(20240611);
  const lines: { text: string; kind: string }[] = [];
  const seen = new Set<string>();
  const add = (text: string, kind: string) => {
    if (seen.has(text)) return false;
    seen.add(text);
    lines.push({ text, kind });
    return true;
  };
  while (lines.length < 64) {
    const n = rnd() < 0.5 ? 2 : 3;
    let text = '';
    while (Array.from(text).length < 4 || text === '') text += pick(rnd, WORDS);
    for (let i = 1; i < n && Array.from(text).length < 7; i++) text += pick(rnd, WORDS);
    add(text, 'chinese');
  }
  const mixed: (() => string)[] = [
    () => `${pick(rnd, WORDS)}${1 + Math.floor(rnd() * 998)}${pick(rnd, UNITS)}`,
    () => `${2000 + Math.floor(rnd() * 26)}年${1 + Math.floor(rnd() * 12)}月${1 + Math.floor(rnd() * 28)}日`,
    () => `营业时间${pad2(6 + Math.floor(rnd() * 4))}:00-${pad2(18 + Math.floor(rnd() * 5))}:00`,
    () => `${pick(rnd, ['价格', '单价', '合计', '优惠'])}：${1 + Math.floor(rnd() * 500)}.${digits(rnd, 2)}元`,
    () => `${pick(rnd, ['电话', '手机', '联系人'])}1${3 + Math.floor(rnd() * 6)}${digits(rnd, 9)}`,
  ];
  while (lines.length < 104) add(pick(rnd, mixed)(), 'mixed');
  const numeric: (() => string)[] = [
    () => `${2000 + Math.floor(rnd() * 26)}-${pad2(1 + Math.floor(rnd() * 12))}-${pad2(1 + Math.floor(rnd() * 28))}`,
    () => `${digits(rnd, 3)}-${digits(rnd, 4)}-${digits(rnd, 4)}`,
    () => `${1 + Math.floor(rnd() * 9999)}.${digits(rnd, 2)}`,
    () => `No.${digits(rnd, 6)}`,
    () => `${pad2(Math.floor(rnd() * 24))}:${pad2(Math.floor(rnd() * 60))}:${pad2(Math.floor(rnd() * 60))}`,
    () => `${Math.floor(rnd() * 100)}%`,
  ];
  while (lines.length < 132) add(pick(rnd, numeric)(), 'digits');
  while (lines.length < 160) {
    const word = pick(rnd, LATIN);
    add(rnd() < 0.4 ? `${word} ${1 + Math.floor(rnd() * 99)}` : word, 'latin');
  }
  return lines;
}

interface Style {
  readonly font: string;
  readonly size: number;
  readonly weight: number;
  readonly color: string;
  readonly background: string;
}

function styleFor(rnd: () => number): Style {
  return {
    font: pick(rnd, ['Noto Sans CJK SC', 'Noto Serif CJK SC']),
    size: 28 + Math.floor(rnd() * 6),
    weight: rnd() < 0.25 ? 700 : 400,
    color: pick(rnd, ['#111', '#222', '#1a1a40', '#303030', '#402010']),
    background: pick(rnd, ['#fff', '#f6f3ea', '#eef2f6', '#f0f0f0', '#fffbe8']),
  };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

async function main(): Promise<void> {
  const missing = chromiumMissingReason();
  if (missing) throw new Error(`render-ocr-lines: ${missing}.`);
  const fonts = execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  if (!fonts.includes('Noto Sans CJK SC'))
    throw new Error(
      'render-ocr-lines: the Noto CJK fonts are missing, so Chinese would render as boxes. Run `bash scripts/setup-cli-tests.sh --fonts` (apt-get install fonts-noto-cjk).',
    );
  const dictionary = loadOcrDictionary();
  const lines = textLines();
  for (const { text } of lines)
    for (const ch of text)
      if (!dictionary.has(ch)) throw new Error(`render-ocr-lines: '${ch}' in '${text}' is not in the recognizer's dictionary.`);
  const styleRnd = seededRandom(7);
  const styles = lines.map(() => styleFor(styleRnd));
  const html = `<!doctype html><meta charset="utf-8"><style>
    body { margin: 0; padding: 8px; background: #888; }
    .line { display: block; width: max-content; height: ${HEIGHT}px; line-height: ${HEIGHT}px; padding: 0 8px;
            margin: 0 0 4px; white-space: nowrap; box-sizing: border-box; }
  </style>${lines
    .map(
      ({ text }, i) =>
        `<div class="line" id="l${i}" style="font-family: '${styles[i]?.font}', 'DejaVu Sans'; font-size: ${styles[i]?.size}px; font-weight: ${styles[i]?.weight}; color: ${styles[i]?.color}; background: ${styles[i]?.background}">${escapeHtml(text)}</div>`,
    )
    .join('\n')}`;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 }, deviceScaleFactor: 1 });
    await page.setContent(html);
    // A string expression: this script is type-checked without the DOM library.
    await page.evaluate('document.fonts.ready.then(() => true)');
    // Replace the images and labels, and keep what else the folder holds (its README).
    for (const split of ['calibration', 'evaluation']) {
      rmSync(path.join(OUT, split), { recursive: true, force: true });
      mkdirSync(path.join(OUT, split), { recursive: true });
    }
    const labels: OcrLineLabel[] = [];
    const counts = { calibration: 0, evaluation: 0 };
    for (const [i, { text, kind }] of lines.entries()) {
      // Two of every five lines calibrate, three evaluate: both splits see every kind of line.
      const split = i % 5 < 2 ? 'calibration' : 'evaluation';
      counts[split]++;
      const file = `${split}/${String(counts[split]).padStart(3, '0')}.png`;
      const shot = await page.locator(`#l${i}`).screenshot({ type: 'png' });
      const image = decodePngImage(shot, `screenshot of line ${i}`);
      const { width } = image;
      const bytes = encodeGrayscalePng(image);
      if (width > 320) console.warn(`render-ocr-lines: '${text}' is ${width} px wide; the recognizer input squeezes it to 320.`);
      writeFileSync(path.join(OUT, file), bytes);
      const style = styles[i] as Style;
      labels.push({ file, text, split, kind, font: `${style.font} ${style.weight === 700 ? 'Bold ' : ''}${style.size}px` });
    }
    const doc: OcrLinesLabels = {
      format: OCR_LINES_FORMAT,
      description:
        'Text lines rendered by scripts/render-ocr-lines.ts with headless Chromium, 48 px high, grayscale, for the PaddleOCR recognizer demo.',
      lines: labels,
    };
    writeFileSync(path.join(OUT, 'labels.json'), `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`render-ocr-lines: wrote ${counts.calibration} calibration and ${counts.evaluation} evaluation lines to ${OUT}`);
  } finally {
    await browser.close();
  }
}

await main();
