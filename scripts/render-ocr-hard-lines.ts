/**
 * Renders the hard OCR dev set, data/ocr-hard/: 1000 text lines, disjoint from the demo lines of
 * data/ocr-lines, drawn by headless Chromium on a canvas and degraded as real crops are: low
 * resolution (drawn small, scaled back up), blur, rotation and skew, low contrast, Gaussian noise
 * and JPEG compression. Half of the lines are drawn upside down (rotated 180 degrees before the
 * noise and JPEG), so that PaddleOCR's direction classifier can be scored by accuracy; the
 * recognizer reads every line upright (the bench turns the 180-degree ones back, as PaddleOCR's
 * pipeline does after the classifier).
 *
 * Splits: `calibration` (200 lines), `dev` (500, for choosing plans), `test` (300, held out, for
 * reporting). Every style choice is seeded, so labels are reproducible; pixels can differ slightly
 * between Chromium versions.
 *
 * Needs /usr/bin/chromium and the Noto CJK fonts: `bash scripts/setup-cli-tests.sh --fonts`.
 * Run: `pnpm exec tsx --conditions=@quantsim/source scripts/render-ocr-hard-lines.ts`
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OCR_HARD_FORMAT, type OcrHardLabel, type OcrHardLabels, type OcrHardSplit } from '../bench/ocr-hard-set.js';
import { chromiumMissingReason, launchChromium } from '../packages/cli/test/support/headless-chromium.js';
import { decodePngImage, encodeGrayscalePng } from '../packages/data/src/image/png-image.js';
import { loadOcrDictionary } from '../packages/data/src/ocr/ocr-dictionary.js';
import { seededRandom } from '../test-support/random.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'data', 'ocr-hard');
const HEIGHT = 48;
const SPLITS: readonly [OcrHardSplit, number][] = [
  ['calibration', 200],
  ['dev', 140],
  ['test', 300],
  // Added later: 360 more dev lines (dev/141 to dev/500), after the others, so that the first 640
  // lines keep their texts and styles.
  ['dev', 360],
];

// Words of everyday signs, forms and news, chosen apart from the demo set's list.
const WORDS = [
  '开发区',
  '人民路',
  '解放路',
  '建设银行',
  '农业银行',
  '邮政',
  '快递',
  '外卖',
  '餐厅',
  '菜单',
  '牛肉面',
  '豆浆',
  '包子',
  '饺子',
  '火锅',
  '烧烤',
  '奶茶',
  '蛋糕',
  '面包',
  '水饺',
  '药店',
  '诊所',
  '门诊',
  '急诊',
  '挂号',
  '收费',
  '窗口',
  '排队',
  '等候',
  '休息区',
  '洗手间',
  '电梯',
  '楼梯',
  '安全出口',
  '消防',
  '注意安全',
  '施工',
  '禁止通行',
  '限速',
  '左转',
  '右转',
  '直行',
  '南门',
  '北门',
  '东路',
  '西街',
  '广场',
  '公园',
  '体育馆',
  '博物馆',
  '美术馆',
  '剧院',
  '酒店',
  '宾馆',
  '旅游',
  '门票',
  '学生证',
  '身份证',
  '护照',
  '签证',
  '航班',
  '登机口',
  '行李',
  '候车室',
  '售票处',
  '检票口',
  '站台',
  '列车',
  '高铁',
  '动车',
  '报名',
  '考试',
  '成绩',
  '通知',
  '公告',
  '会议',
  '讲座',
  '培训',
  '招聘',
  '工资',
  '合同',
  '协议',
  '签字',
  '盖章',
  '日期',
  '金额',
  '余额',
  '转账',
  '存款',
  '利率',
  '保险',
  '理财',
  '股票',
  '基金',
  '房产',
  '租房',
  '物业',
  '小区',
  '单元',
  '社区',
  '街道',
  '派出所',
  '法院',
  '政府',
  '大厦',
  '写字楼',
  '商场',
  '促销',
  '打折',
  '特价',
  '新品',
  '热销',
  '包邮',
  '退货',
  '客服',
  '热线',
  '投诉',
  '建议',
  '满意',
  '感谢',
  '欢迎',
  '光临',
  '营业',
  '关门',
  '节日',
  '周末',
  '假期',
  '晴天',
  '多云',
  '小雨',
  '温度',
  '湿度',
  '空气',
  '环境',
  '保护',
  '绿色',
  '健康',
  '运动',
  '跑步',
  '游泳',
];
const LATIN = [
  'Pharmacy',
  'Bakery',
  'Library',
  'Museum',
  'Gate',
  'Platform',
  'Ticket',
  'Receipt',
  'Balance',
  'Account',
  'Customer',
  'Delivery',
  'Express',
  'Discount',
  'Special Offer',
  'Closed',
  'Push',
  'Pull',
  'Toilet',
  'Lift',
  'Emergency',
  'No Smoking',
  'Keep Right',
  'Speed Limit',
  'Center',
  'Plaza',
  'Tower',
  'Room',
  'Floor',
  'Check In',
  'Departure',
  'Arrival',
  'Baggage',
  'Restaurant',
  'Noodles',
  'Tea',
  'Juice',
  'Water',
  'Fresh',
  'Organic',
];
const UNITS = ['元', '件', '号', '楼', '室', '层', '路', '米', '克', '次'];
const FONTS = ['Noto Sans CJK SC', 'Noto Serif CJK SC'];

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)] as T;
}
const digits = (rnd: () => number, n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
const pad2 = (v: number) => String(v).padStart(2, '0');

function textLines(count: number, exclude: ReadonlySet<string>): { text: string; kind: string }[] {
  const rnd = seededRandom(20261201);
  const lines: { text: string; kind: string }[] = [];
  const seen = new Set<string>(exclude);
  const generators: [string, number, () => string][] = [
    [
      'chinese',
      0.45,
      () => {
        let text = '';
        while (Array.from(text).length < 4) text += pick(rnd, WORDS);
        if (rnd() < 0.5 && Array.from(text).length < 8) text += pick(rnd, WORDS);
        return text;
      },
    ],
    [
      'mixed',
      0.25,
      () =>
        pick(rnd, [
          () => `${pick(rnd, WORDS)}${1 + Math.floor(rnd() * 999)}${pick(rnd, UNITS)}`,
          () => `${2000 + Math.floor(rnd() * 30)}年${1 + Math.floor(rnd() * 12)}月${1 + Math.floor(rnd() * 28)}日`,
          () => `${pick(rnd, ['金额', '余额', '工资', '门票'])}：${1 + Math.floor(rnd() * 9000)}.${digits(rnd, 2)}元`,
          () => `${pick(rnd, ['热线', '客服', '电话'])}${digits(rnd, 3)}-${digits(rnd, 8)}`,
          () => `${pick(rnd, WORDS)}${pad2(Math.floor(rnd() * 24))}:${pad2(Math.floor(rnd() * 60))}`,
        ])(),
    ],
    [
      'digits',
      0.15,
      () =>
        pick(rnd, [
          () => `${digits(rnd, 4)} ${digits(rnd, 4)} ${digits(rnd, 4)}`,
          () => `${1 + Math.floor(rnd() * 99999)}.${digits(rnd, 2)}`,
          () => `${pad2(1 + Math.floor(rnd() * 31))}/${pad2(1 + Math.floor(rnd() * 12))}/${2000 + Math.floor(rnd() * 30)}`,
          () => `#${digits(rnd, 7)}`,
          () => `${Math.floor(rnd() * 1000)}x${Math.floor(rnd() * 1000)}`,
        ])(),
    ],
    [
      'latin',
      0.15,
      () => {
        const word = pick(rnd, LATIN);
        return rnd() < 0.5 ? `${word} ${1 + Math.floor(rnd() * 999)}` : rnd() < 0.5 ? word.toUpperCase() : word;
      },
    ],
  ];
  while (lines.length < count) {
    let u = rnd();
    let chosen = generators[0] as (typeof generators)[number];
    for (const g of generators) {
      if (u < g[1]) {
        chosen = g;
        break;
      }
      u -= g[1];
    }
    const text = chosen[2]();
    if (seen.has(text)) continue;
    seen.add(text);
    lines.push({ text, kind: chosen[0] });
  }
  return lines;
}

/** The degradations of one line; the page script applies them in this order. */
interface Degradation {
  readonly font: string;
  readonly size: number;
  readonly weight: number;
  readonly ink: number;
  readonly paper: number;
  /** Drawn at this fraction of the size, then scaled back up to 48 px. */
  readonly resolution: number;
  readonly blur: number;
  readonly rotateDeg: number;
  readonly skew: number;
  readonly flip: boolean;
  readonly noise: number;
  readonly jpegQuality: number;
  readonly seed: number;
}

function degradationFor(rnd: () => number, flip: boolean): Degradation {
  return {
    font: pick(rnd, FONTS),
    size: 26 + Math.floor(rnd() * 10),
    weight: rnd() < 0.3 ? 700 : 400,
    ink: 20 + Math.floor(rnd() * 90),
    paper: 150 + Math.floor(rnd() * 100),
    resolution: rnd() < 0.6 ? 0.4 + rnd() * 0.4 : 1,
    blur: rnd() < 0.5 ? rnd() * 1.2 : 0,
    rotateDeg: (rnd() * 2 - 1) * 3,
    skew: (rnd() * 2 - 1) * 0.25,
    flip,
    noise: 4 + rnd() * 14,
    jpegQuality: rnd() < 0.7 ? 0.25 + rnd() * 0.5 : 1,
    seed: Math.floor(rnd() * 2 ** 31),
  };
}

// The page script, as a string: this file is type-checked without the DOM library.
const PAGE_SCRIPT = `
window.renderLine = async (text, d) => {
  const H = ${HEIGHT};
  let seed = d.seed >>> 0;
  const rnd = () => { seed = (seed + 0x6d2b79f5) >>> 0; let t = seed; t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const font = (px) => (d.weight === 700 ? 'bold ' : '') + px + "px '" + d.font + "', 'DejaVu Sans'";
  const measure = document.createElement('canvas').getContext('2d');
  measure.font = font(d.size);
  const W = Math.min(400, Math.ceil(measure.measureText(text).width + 16 + Math.abs(d.skew) * H));
  // 1. Text at full size, rotated and skewed, on paper.
  const base = document.createElement('canvas'); base.width = W; base.height = H;
  const g = base.getContext('2d');
  g.fillStyle = 'rgb(' + d.paper + ',' + d.paper + ',' + d.paper + ')'; g.fillRect(0, 0, W, H);
  g.translate(W / 2, H / 2); g.rotate(d.rotateDeg * Math.PI / 180); g.transform(1, 0, d.skew, 1, 0, 0);
  g.filter = d.blur > 0 ? 'blur(' + d.blur.toFixed(2) + 'px)' : 'none';
  g.fillStyle = 'rgb(' + d.ink + ',' + d.ink + ',' + d.ink + ')'; g.font = font(d.size);
  g.textAlign = 'center'; g.textBaseline = 'middle'; g.fillText(text, 0, 1);
  // 2. Low resolution: down to a fraction, then back up (bilinear).
  let img = base;
  if (d.resolution < 1) {
    const small = document.createElement('canvas');
    small.width = Math.max(8, Math.round(W * d.resolution)); small.height = Math.max(8, Math.round(H * d.resolution));
    const s = small.getContext('2d'); s.imageSmoothingEnabled = true; s.drawImage(base, 0, 0, small.width, small.height);
    const up = document.createElement('canvas'); up.width = W; up.height = H;
    const u = up.getContext('2d'); u.imageSmoothingEnabled = true; u.drawImage(small, 0, 0, W, H);
    img = up;
  }
  // 3. Upside down, before noise and compression, as a camera would see it.
  const out = document.createElement('canvas'); out.width = W; out.height = H;
  const o = out.getContext('2d');
  if (d.flip) { o.translate(W, H); o.rotate(Math.PI); }
  o.drawImage(img, 0, 0); o.setTransform(1, 0, 0, 1, 0, 0);
  // 4. Gaussian noise, in grey.
  const px = o.getImageData(0, 0, W, H);
  for (let i = 0; i < px.data.length; i += 4) {
    const gauss = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    const v = Math.max(0, Math.min(255, Math.round((px.data[i] + px.data[i + 1] + px.data[i + 2]) / 3 + gauss * d.noise)));
    px.data[i] = px.data[i + 1] = px.data[i + 2] = v;
  }
  o.putImageData(px, 0, 0);
  // 5. JPEG round trip.
  if (d.jpegQuality < 1) {
    const jpeg = new Image();
    jpeg.src = out.toDataURL('image/jpeg', d.jpegQuality);
    await jpeg.decode();
    o.drawImage(jpeg, 0, 0);
  }
  return out.toDataURL('image/png');
};
true;
`;

async function main(): Promise<void> {
  const missing = chromiumMissingReason();
  if (missing) throw new Error(`render-ocr-hard-lines: ${missing}.`);
  const fonts = execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  if (!fonts.includes('Noto Sans CJK SC'))
    throw new Error('render-ocr-hard-lines: the Noto CJK fonts are missing. Run `bash scripts/setup-cli-tests.sh --fonts`.');
  const demo = JSON.parse(readFileSync(path.join(ROOT, 'data', 'ocr-lines', 'labels.json'), 'utf8')) as {
    lines: { text: string }[];
  };
  const total = SPLITS.reduce((n, [, c]) => n + c, 0);
  const lines = textLines(total, new Set(demo.lines.map((l) => l.text)));
  const dictionary = loadOcrDictionary();
  for (const { text } of lines)
    for (const ch of text)
      if (ch !== ' ' && !dictionary.has(ch))
        throw new Error(`render-ocr-hard-lines: '${ch}' in '${text}' is not in the recognizer's dictionary.`);
  const styleRnd = seededRandom(1201);
  // Every other line is upside down, so each split holds both directions in equal numbers.
  const styles = lines.map((_, i) => degradationFor(styleRnd, i % 2 === 1));

  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 200 }, deviceScaleFactor: 1 });
    await page.setContent(
      `<!doctype html><meta charset="utf-8"><div style="font-family:'Noto Sans CJK SC'">字</div><div style="font-family:'Noto Serif CJK SC';font-weight:700">字</div>`,
    );
    await page.evaluate('document.fonts.ready.then(() => true)');
    await page.evaluate(PAGE_SCRIPT);
    // The split folders are rendered anew; README.md beside them stays.
    for (const [split] of SPLITS) rmSync(path.join(OUT, split), { recursive: true, force: true });
    const labels: OcrHardLabel[] = [];
    let next = 0;
    let bytes = 0;
    const written = new Map<OcrHardSplit, number>();
    for (const [split, count] of SPLITS) {
      mkdirSync(path.join(OUT, split), { recursive: true });
      for (let i = 0; i < count; i++, next++) {
        const k = written.get(split) ?? 0;
        written.set(split, k + 1);
        const { text, kind } = lines[next] as { text: string; kind: string };
        const d = styles[next] as Degradation;
        const url = (await page.evaluate(`window.renderLine(${JSON.stringify(text)}, ${JSON.stringify(d)})`)) as string;
        const png = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
        const grey = encodeGrayscalePng(decodePngImage(png, `line ${next}`));
        const file = `${split}/${String(k + 1).padStart(3, '0')}.png`;
        writeFileSync(path.join(OUT, file), grey);
        bytes += grey.length;
        labels.push({
          file,
          text,
          split,
          kind,
          angle: d.flip ? 180 : 0,
          degradation: `${d.font}${d.weight === 700 ? ' Bold' : ''} ${d.size}px; resolution ${d.resolution.toFixed(2)}; blur ${d.blur.toFixed(2)}px; rotate ${d.rotateDeg.toFixed(1)}°; skew ${d.skew.toFixed(2)}; noise σ ${d.noise.toFixed(1)}; JPEG ${d.jpegQuality < 1 ? d.jpegQuality.toFixed(2) : 'none'}; contrast ${d.ink}/${d.paper}`,
        });
      }
    }
    const doc: OcrHardLabels = {
      format: OCR_HARD_FORMAT,
      description:
        'Degraded text lines rendered by scripts/render-ocr-hard-lines.ts (headless Chromium canvas), 48 px high, grayscale; angle 180 lines are drawn upside down.',
      lines: labels,
    };
    writeFileSync(path.join(OUT, 'labels.json'), `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`render-ocr-hard-lines: wrote ${labels.length} lines (${(bytes / 1e6).toFixed(2)} MB of PNG) to ${OUT}`);
  } finally {
    await browser.close();
  }
}

await main();
