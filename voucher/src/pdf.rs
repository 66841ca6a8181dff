//! The printed voucher or invoice: one A5-landscape page of PDF/A-2b with a ruled fee
//! table, the unit's seal and a QR that leads to the verification page.
//!
//! Everything is vector: text in the bundled Noto Sans CJK (krilla embeds the subset a
//! page uses), the QR as filled squares, the seal and the 作废 stamp as paths. Layout is
//! in millimetres from the top-left corner, as on the paper.

use std::sync::OnceLock;

use krilla::action::{Action, LinkAction};
use krilla::annotation::{Annotation, LinkAnnotation, Target};
use krilla::blend::BlendMode;
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::error::KrillaError;
use krilla::geom::{Path, PathBuilder, Point, Rect, Transform};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Paint, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::SerializeSettings;
use qrcode::{EcLevel, QrCode};
use skrifa::instance::{LocationRef, Size};
use skrifa::MetadataProvider;
use yizhan_core::clock::{SHANGHAI, shanghai_date};
use yizhan_core::document::{Document, DocumentKind, SERIAL_DIGITS};
use yizhan_core::money::{format_yuan, to_chinese_uppercase};

/// Marks printed on a copy beside what was signed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    /// 补打: a reprint of an issued document, printed as a boxed 补打 beside the title.
    pub reprint: bool,
    /// 作废 with the reason: a large red 作废 stamped across the table, and the reason
    /// under 备注.
    pub voided: Option<String>,
}

/// Why a document could not be rendered. A field the font cannot print fails the whole
/// page rather than print a blank box: PDF/A forbids the .notdef glyph, and a
/// fiscal document must not drop a character of a name.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the font has no glyph for {ch:?} (U+{code:04X}) in {text:?}", code = u32::from(*ch))]
    MissingGlyph { ch: char, text: String },
    #[error("the verification URL does not fit in a QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    #[error("{count} lines do not fit on one page; at most {max} do")]
    TooManyLines { count: usize, max: usize },
    #[error("the PDF fails PDF/A-2b validation: {}", .0.join("; "))]
    Validation(Vec<String>),
    #[error("krilla could not write the PDF: {0}")]
    Pdf(String),
}

impl From<KrillaError> for RenderError {
    fn from(e: KrillaError) -> Self {
        match e {
            KrillaError::Validation(errors) => {
                RenderError::Validation(errors.iter().map(|(error, _)| format!("{error:?}")).collect())
            }
            other => RenderError::Pdf(other.to_string()),
        }
    }
}

/// Renders one A5-landscape page, PDF/A-2b. `qr_url` is drawn as the QR and also set as
/// the link over it, which is where [`qr_url_in`] finds it again.
pub fn render(doc: &Document, qr_url: &str, marks: &Marks) -> Result<Vec<u8>, RenderError> {
    let qr = QrCode::with_error_correction_level(qr_url.as_bytes(), EcLevel::M)?;
    let table = TableLayout::new(doc.lines.len(), marks)?;

    let mut pdf = krilla::Document::new_with(settings()?);
    pdf.set_metadata(metadata(doc));
    let size = PageSettings::from_wh(pt(PAGE_W), pt(PAGE_H)).expect("A5 is a valid page size");
    let mut page = pdf.start_page_with(size);
    page.add_annotation(Annotation::new_link(
        LinkAnnotation::new(QR_BOX.to_rect(), Target::Action(Action::Link(LinkAction::new(qr_url.to_owned())))),
        Some("扫码验真".to_owned()),
    ));
    let mut surface = page.surface();
    let mut sheet = Sheet { surface: &mut surface, face: face() };
    sheet.header(doc, marks)?;
    sheet.table(doc, marks, &table)?;
    sheet.footer(doc)?;
    sheet.qr(&qr)?;
    sheet.seal(&doc.unit.name)?;
    if marks.voided.is_some() {
        sheet.void_stamp(&table)?;
    }
    surface.finish();
    page.finish();
    Ok(pdf.finish()?)
}

/// The verification URL embedded in a PDF made by [`render`]: the URI of the link over the
/// QR, read from the first page that has one.
pub fn qr_url_in(pdf: &[u8]) -> Option<String> {
    use lopdf::Object;
    let pdf = lopdf::Document::load_mem(pdf).ok()?;
    let resolve = |object: &Object| pdf.dereference(object).ok().map(|(_, o)| o.clone());
    pdf.get_pages().into_values().find_map(|page| {
        let page = pdf.get_dictionary(page).ok()?;
        let annots = resolve(page.get(b"Annots").ok()?)?;
        annots.as_array().ok()?.iter().find_map(|annot| {
            let annot = resolve(annot)?;
            let action = resolve(annot.as_dict().ok()?.get(b"A").ok()?)?;
            let action = action.as_dict().ok()?;
            if action.get(b"S").ok()?.as_name().ok()? != b"URI" {
                return None;
            }
            match resolve(action.get(b"URI").ok()?)? {
                Object::String(bytes, _) => String::from_utf8(bytes).ok(),
                _ => None,
            }
        })
    })
}

const FONT_DATA: &[u8] = include_bytes!("../../assets/fonts/NotoSansCJKsc-Regular-subset.otf");

/// The bundled font, parsed once: krilla's handle for embedding, and the cmap and advances
/// this module lays text out with.
struct Face {
    font: Font,
    charmap: skrifa::charmap::Charmap<'static>,
    metrics: skrifa::metrics::GlyphMetrics<'static>,
    units_per_em: f32,
}

fn face() -> &'static Face {
    static FACE: OnceLock<Face> = OnceLock::new();
    FACE.get_or_init(|| {
        let font = Font::new(FONT_DATA.into(), 0).expect("the bundled font is an OpenType font");
        let font_ref = skrifa::FontRef::new(FONT_DATA).expect("the bundled font is an OpenType font");
        Face {
            units_per_em: font.units_per_em(),
            font,
            charmap: font_ref.charmap(),
            metrics: font_ref.glyph_metrics(Size::unscaled(), LocationRef::default()),
        }
    })
}

/// A line of text mapped to glyphs, one per character: Chinese needs no shaping, and the
/// Latin in these fields (codes, amounts, units) reads fine without kerning.
struct Run {
    text: String,
    glyphs: Vec<KrillaGlyph>,
    /// The advance of the whole line at a size of 1.
    em_width: f32,
}

impl Face {
    /// Whitespace of any kind becomes one space: fields are single lines, and a tab or
    /// newline has no glyph.
    fn shape(&self, text: &str) -> Result<Run, RenderError> {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut glyphs = Vec::with_capacity(text.len());
        let mut em_width = 0.0;
        for (at, ch) in text.char_indices() {
            let id = self
                .charmap
                .map(ch)
                .filter(|id| id.to_u32() != 0)
                .ok_or_else(|| RenderError::MissingGlyph { ch, text: text.clone() })?;
            let advance = self.metrics.advance_width(id).unwrap_or(0.0) / self.units_per_em;
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(id.to_u32()),
                advance,
                0.0,
                0.0,
                0.0,
                at..at + ch.len_utf8(),
                None,
            ));
            em_width += advance;
        }
        Ok(Run { text, glyphs, em_width })
    }
}

const PT_PER_MM: f32 = 72.0 / 25.4;

fn pt(mm: f32) -> f32 {
    mm * PT_PER_MM
}

/// Width in mm of a run set at `size` pt.
fn width_mm(run: &Run, size: f32) -> f32 {
    run.em_width * size / PT_PER_MM
}

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 148.0;
const LEFT: f32 = 10.0;
const RIGHT: f32 = 200.0;

/// Smaller is hard to read on A5: a cell whose text would need smaller breaks it over two
/// lines instead, if they fit.
const MIN_SIZE: f32 = 6.0;
const CELL_PAD: f32 = 1.5;

const INK: [u8; 3] = [0, 0, 0];
const RULE: [u8; 3] = [90, 90, 90];
const SEAL_RED: [u8; 3] = [220, 0, 0];

fn paint([r, g, b]: [u8; 3]) -> Paint {
    rgb::Color::new(r, g, b).into()
}

#[derive(Clone, Copy)]
struct Area {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

impl Area {
    const fn new(x: f32, y: f32, w: f32, h: f32) -> Area {
        Area { x, y, w, h }
    }

    fn right(self) -> f32 {
        self.x + self.w
    }

    fn to_rect(self) -> Rect {
        Rect::from_xywh(pt(self.x), pt(self.y), pt(self.w), pt(self.h)).expect("layout boxes have positive size")
    }
}

/// 30 mm with the quiet zone: about 0.45 mm a module for the ~250-character URL, which a
/// phone reads off paper and a 200 dpi scan still resolves.
const QR_BOX: Area = Area::new(LEFT, 6.0, 30.0, 30.0);

const TITLE_SIZE: f32 = 18.0;
const TITLE_BASELINE: f32 = 16.5;
/// Where 票据代码 and the rest of the right-hand block start.
const INFO_X: f32 = 146.0;

const TABLE_TOP: f32 = 42.0;
/// Column edges of the fee table: 项目编码 | 项目名称 | 计费依据/标准 | 金额（元）.
const COLUMNS: [f32; 5] = [LEFT, 32.0, 78.0, 158.0, RIGHT];
/// 交款人 | payer | 统一社会信用代码 | USCC, over the same first column.
const PAYER_COLUMNS: [f32; 5] = [LEFT, 32.0, 110.0, 140.0, RIGHT];
const PAYER_ROW: f32 = 7.0;
const HEAD_ROW: f32 = 7.0;
const TOTAL_ROW: f32 = 7.5;
const LINE_ROW: f32 = 6.5;
const MIN_LINE_ROW: f32 = 4.5;
const REMARK_LEADING: f32 = 4.6;
const REMARK_SIZE: f32 = 8.0;
/// The footer sits at the same height on every copy, like a pre-printed form: a short
/// table gets empty ruled rows down to it, a long one narrower rows.
const FOOTER_BASELINE: f32 = 136.0;
const FOOTER_GAP: f32 = 6.0;

/// Row positions of the table, which depend on how many lines and marks there are.
struct TableLayout {
    lines_top: f32,
    line_row: f32,
    rows: usize,
    total_top: f32,
    remarks_top: f32,
    bottom: f32,
}

impl TableLayout {
    fn new(lines: usize, marks: &Marks) -> Result<TableLayout, RenderError> {
        let remarks_h = |lines: usize| lines as f32 * REMARK_LEADING + 2.6;
        let lines_top = TABLE_TOP + PAYER_ROW + HEAD_ROW;
        let bottom = FOOTER_BASELINE - FOOTER_GAP;
        let room = |remarks: usize| bottom - remarks_h(remarks) - TOTAL_ROW - lines_top;
        // Counted with the 作废原因 line whether or not there is one: a document that was
        // printed can always be printed again voided.
        let max = (room(4) / MIN_LINE_ROW).floor() as usize;
        if lines > max {
            return Err(RenderError::TooManyLines { count: lines, max });
        }
        let room = room(3 + usize::from(marks.voided.is_some()));
        let rows = lines.max((room / LINE_ROW).floor() as usize);
        let line_row = room / rows as f32;
        let total_top = lines_top + rows as f32 * line_row;
        let remarks_top = total_top + TOTAL_ROW;
        Ok(TableLayout { lines_top, line_row, rows, total_top, remarks_top, bottom })
    }
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Centre,
    Right,
}

impl Align {
    /// Where a line `width` mm wide starts when aligned on `x`.
    fn left_edge(self, x: f32, width: f32) -> f32 {
        match self {
            Align::Left => x,
            Align::Centre => x - width / 2.0,
            Align::Right => x - width,
        }
    }
}

struct Sheet<'s, 'p> {
    surface: &'s mut Surface<'p>,
    face: &'static Face,
}

impl Sheet<'_, '_> {
    fn ink(&mut self, color: [u8; 3]) {
        self.surface.set_fill(Some(Fill { paint: paint(color), ..Fill::default() }));
        self.surface.set_stroke(None);
    }

    fn pen(&mut self, color: [u8; 3], width_mm: f32) {
        self.surface.set_fill(None);
        self.surface.set_stroke(Some(Stroke { paint: paint(color), width: pt(width_mm), ..Stroke::default() }));
    }

    fn draw_run(&mut self, run: &Run, x: f32, baseline: f32, size: f32) {
        self.surface.draw_glyphs(
            Point::from_xy(pt(x), pt(baseline)),
            &run.glyphs,
            self.face.font.clone(),
            &run.text,
            size,
            false,
        );
    }

    /// Draws a run as outlines rather than text, for marks that are pictures of ink (the
    /// seal, the 作废 stamp) and have no place in a reader's text layer. `place` puts the
    /// middle of the run's baseline, in pt; `weight` mm of stroke thickens the lines.
    /// The outlines are drawn one unit per font unit and scaled by a transform, so the
    /// path coordinates are the font's own integers rather than long decimals.
    fn outlines(&mut self, run: &Run, place: Transform, size: f32, ink: &Fill, weight: f32) {
        let upem = self.face.units_per_em;
        self.surface.push_transform(&place);
        self.surface.push_transform(&Transform::from_scale(size / upem, size / upem));
        self.surface.set_fill(Some(ink.clone()));
        self.surface.set_stroke((weight > 0.0).then(|| Stroke {
            paint: ink.paint.clone(),
            opacity: ink.opacity,
            width: pt(weight) * upem / size,
            ..Stroke::default()
        }));
        let start = Point::from_xy(-run.em_width * upem / 2.0, 0.0);
        self.surface.draw_glyphs(start, &run.glyphs, self.face.font.clone(), &run.text, upem, true);
        self.surface.pop();
        self.surface.pop();
    }

    /// One line of text in the current ink, at `size` or smaller so it fits `width`;
    /// `x` is the left edge, centre or right edge per `align`.
    fn text(&mut self, text: &str, x: f32, baseline: f32, width: f32, size: f32, align: Align) -> Result<(), RenderError> {
        let run = self.face.shape(text)?;
        let size = size.min(size * width / width_mm(&run, size));
        self.draw_run(&run, align.left_edge(x, width_mm(&run, size)), baseline, size);
        Ok(())
    }

    /// Text inside a table cell, centred vertically. Too long for one line at a legible
    /// size, it breaks into two balanced lines if that lets it be set larger.
    fn cell(&mut self, text: &str, cell: Area, size: f32, align: Align) -> Result<(), RenderError> {
        const LEADING: f32 = 1.1;
        let width = cell.w - 2.0 * CELL_PAD;
        let x = match align {
            Align::Left => cell.x + CELL_PAD,
            Align::Centre => cell.x + cell.w / 2.0,
            Align::Right => cell.right() - CELL_PAD,
        };
        let run = self.face.shape(text)?;
        let one_line = size.min(size * width / width_mm(&run, size));
        if one_line < MIN_SIZE
            && let Some((first, second)) = balanced_split(&run.text)
        {
            let lines = [self.face.shape(first)?, self.face.shape(second)?];
            let widest = lines[0].em_width.max(lines[1].em_width);
            let by_height = (cell.h - 0.8) / 2.0 / LEADING * PT_PER_MM;
            let two_lines = size.min(width * PT_PER_MM / widest).min(by_height);
            if two_lines > one_line {
                let leading = two_lines * LEADING / PT_PER_MM;
                let first_baseline = cell.y + cell.h / 2.0 - leading / 2.0 + cap_offset(two_lines);
                for (i, line) in lines.iter().enumerate() {
                    let left = align.left_edge(x, width_mm(line, two_lines));
                    self.draw_run(line, left, first_baseline + i as f32 * leading, two_lines);
                }
                return Ok(());
            }
        }
        self.text(text, x, cell.y + cell.h / 2.0 + cap_offset(one_line), width, size, align)
    }

    fn rule(&mut self, x1: f32, y1: f32, x2: f32, y2: f32) {
        let mut pb = PathBuilder::new();
        pb.move_to(pt(x1), pt(y1));
        pb.line_to(pt(x2), pt(y2));
        if let Some(path) = pb.finish() {
            self.surface.draw_path(&path);
        }
    }

    fn frame(&mut self, b: Area) {
        let mut pb = PathBuilder::new();
        pb.push_rect(b.to_rect());
        if let Some(path) = pb.finish() {
            self.surface.draw_path(&path);
        }
    }

    fn header(&mut self, doc: &Document, marks: &Marks) -> Result<(), RenderError> {
        let title = self.face.shape(doc.number.kind.title_zh())?;
        let title_w = width_mm(&title, TITLE_SIZE);
        let title_left = PAGE_W / 2.0 - title_w / 2.0;
        self.ink(INK);
        self.draw_run(&title, title_left, TITLE_BASELINE, TITLE_SIZE);
        // The double rule under the title of a printed fiscal form.
        self.pen(INK, 0.3);
        self.rule(title_left - 3.0, TITLE_BASELINE + 2.6, title_left + title_w + 3.0, TITLE_BASELINE + 2.6);
        self.rule(title_left - 3.0, TITLE_BASELINE + 3.4, title_left + title_w + 3.0, TITLE_BASELINE + 3.4);

        if marks.reprint {
            // Left of the title: the right of it is taken by the number block.
            let label = Area::new(title_left - 15.0, TITLE_BASELINE - 6.2, 11.0, 7.0);
            self.pen(SEAL_RED, 0.4);
            self.frame(label);
            self.ink(SEAL_RED);
            self.cell("补打", label, 10.5, Align::Centre)?;
        }

        let date = shanghai_date(doc.issued_at);
        let date = format!("{}年{}月{}日", date.year(), u8::from(date.month()), date.day());
        let rows: Vec<(&str, String)> = match doc.number.kind {
            DocumentKind::Invoice => vec![
                ("票据代码", doc.unit.invoice_code.clone()),
                // The invoice's 票据号码 is the bare serial; the prefix only tells kinds apart.
                ("票据号码", format!("{:0width$}", doc.number.serial, width = SERIAL_DIGITS)),
                ("校验码", doc.check_code()),
                ("开票日期", date),
            ],
            DocumentKind::Voucher => vec![("凭证号码", doc.number.display()), ("开票日期", date)],
        };
        self.ink(INK);
        for (i, (label, value)) in rows.iter().enumerate() {
            let baseline = 11.0 + i as f32 * 5.0;
            self.text(&format!("{label}：{value}"), INFO_X, baseline, RIGHT - INFO_X, 8.5, Align::Left)?;
        }
        let unit_x = QR_BOX.right() + 6.0;
        self.text(&format!("收款单位：{}", doc.unit.name), unit_x, 33.5, INFO_X - 2.0 - unit_x, 9.0, Align::Left)
    }

    fn table(&mut self, doc: &Document, marks: &Marks, t: &TableLayout) -> Result<(), RenderError> {
        let c = COLUMNS;
        let p = PAYER_COLUMNS;
        let head_top = TABLE_TOP + PAYER_ROW;

        self.pen(RULE, 0.2);
        for top in [head_top, t.lines_top, t.total_top, t.remarks_top] {
            self.rule(LEFT, top, RIGHT, top);
        }
        for i in 1..t.rows {
            let y = t.lines_top + i as f32 * t.line_row;
            self.rule(LEFT, y, RIGHT, y);
        }
        for x in &p[1..4] {
            self.rule(*x, TABLE_TOP, *x, head_top);
        }
        for x in &c[1..4] {
            self.rule(*x, head_top, *x, t.total_top);
        }
        for x in [c[1], c[3]] {
            self.rule(x, t.total_top, x, t.remarks_top);
        }
        self.rule(c[1], t.remarks_top, c[1], t.bottom);
        self.pen(INK, 0.45);
        self.frame(Area::new(LEFT, TABLE_TOP, RIGHT - LEFT, t.bottom - TABLE_TOP));

        self.ink(INK);
        let span = |cols: &[f32; 5], i: usize, top: f32, h: f32| Area::new(cols[i], top, cols[i + 1] - cols[i], h);
        self.cell("交款人", span(&p, 0, TABLE_TOP, PAYER_ROW), 8.5, Align::Centre)?;
        self.cell(&doc.payer, span(&p, 1, TABLE_TOP, PAYER_ROW), 9.0, Align::Left)?;
        self.cell("统一社会信用代码", span(&p, 2, TABLE_TOP, PAYER_ROW), 8.5, Align::Centre)?;
        self.cell(doc.payer_uscc.as_str(), span(&p, 3, TABLE_TOP, PAYER_ROW), 9.0, Align::Left)?;

        for (i, head) in ["项目编码", "项目名称", "计费依据/标准", "金额（元）"].into_iter().enumerate() {
            self.cell(head, span(&c, i, head_top, HEAD_ROW), 8.5, Align::Centre)?;
        }
        let size = 8.5f32.min(pt(t.line_row) * 0.5);
        for (i, line) in doc.lines.iter().enumerate() {
            let top = t.lines_top + i as f32 * t.line_row;
            self.cell(&line.item_code, span(&c, 0, top, t.line_row), size, Align::Centre)?;
            self.cell(&line.item_name, span(&c, 1, top, t.line_row), size, Align::Left)?;
            self.cell(&line.basis, span(&c, 2, top, t.line_row), size, Align::Left)?;
            self.cell(&format_yuan(line.amount_fen), span(&c, 3, top, t.line_row), size, Align::Right)?;
        }

        self.cell("合计", span(&c, 0, t.total_top, TOTAL_ROW), 9.0, Align::Centre)?;
        let words = Area::new(c[1], t.total_top, c[3] - c[1], TOTAL_ROW);
        self.cell(&format!("（大写）{}", to_chinese_uppercase(doc.total_fen)), words, 9.0, Align::Left)?;
        self.cell(&format_yuan(doc.total_fen), span(&c, 3, t.total_top, TOTAL_ROW), 9.0, Align::Right)?;

        let remarks_h = t.bottom - t.remarks_top;
        self.cell("备注", Area::new(LEFT, t.remarks_top, c[1] - LEFT, remarks_h), 9.0, Align::Centre)?;
        self.remarks(doc, marks, t)
    }

    fn remarks(&mut self, doc: &Document, marks: &Marks, t: &TableLayout) -> Result<(), RenderError> {
        let x = COLUMNS[1] + CELL_PAD;
        let second = 108.0;
        let full = RIGHT - CELL_PAD - x;
        let first_w = second - 3.0 - x;
        let second_w = RIGHT - CELL_PAD - second;
        let baseline = |i: usize| t.remarks_top + 1.3 + REMARK_LEADING * (i as f32 + 0.5) + cap_offset(REMARK_SIZE);
        let construction = if doc.construction_permit_no.is_empty() { "待关联" } else { &doc.construction_permit_no };

        self.ink(INK);
        self.text(&format!("项目编号：{}", doc.project_code), x, baseline(0), first_w, REMARK_SIZE, Align::Left)?;
        self.text(&format!("项目名称：{}", doc.project_name), second, baseline(0), second_w, REMARK_SIZE, Align::Left)?;
        let planning = doc.planning_permit_nos.join("、");
        self.text(&format!("规划许可证号：{planning}"), x, baseline(1), full, REMARK_SIZE, Align::Left)?;
        self.text(&format!("施工许可证号：{construction}"), x, baseline(2), first_w, REMARK_SIZE, Align::Left)?;
        self.text(&format!("开具终端：{}", doc.device_id), second, baseline(2), second_w, REMARK_SIZE, Align::Left)?;
        if let Some(reason) = &marks.voided {
            self.ink(SEAL_RED);
            // In the right-hand column: the seal, red too, covers the left.
            self.text(&format!("作废原因：{reason}"), second, baseline(3), second_w, REMARK_SIZE, Align::Left)?;
        }
        Ok(())
    }

    fn footer(&mut self, doc: &Document) -> Result<(), RenderError> {
        let y = FOOTER_BASELINE;
        self.ink(INK);
        self.text("收款单位（盖章）：", LEFT + 2.0, y, 40.0, 9.0, Align::Left)?;
        self.text(&format!("复核人：{}", doc.checker), 100.0, y, 42.0, 9.0, Align::Left)?;
        self.text(&format!("开票人（收款人）：{}", doc.issuer), 145.0, y, RIGHT - 145.0, 9.0, Align::Left)
    }

    fn qr(&mut self, code: &QrCode) -> Result<(), RenderError> {
        const QUIET: usize = 4;
        let n = code.width();
        let module = QR_BOX.w / (n + 2 * QUIET) as f32;
        let colors = code.to_colors();
        // One path of horizontal runs, in module units under a scaling transform: the
        // same squares as module by module, with small integers instead of long decimals
        // for each corner, which keeps the content stream a few kilobytes.
        let mut pb = PathBuilder::new();
        for (row, modules) in colors.chunks(n).enumerate() {
            let mut col = 0;
            while col < n {
                if modules[col] != qrcode::Color::Dark {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < n && modules[col] == qrcode::Color::Dark {
                    col += 1;
                }
                let run = Rect::from_xywh(start as f32, row as f32, (col - start) as f32, 1.0);
                pb.push_rect(run.expect("a run of modules has positive size"));
            }
        }
        if let Some(path) = pb.finish() {
            let origin = QUIET as f32 * module;
            self.surface.push_transform(&Transform::from_row(
                pt(module),
                0.0,
                0.0,
                pt(module),
                pt(QR_BOX.x + origin),
                pt(QR_BOX.y + origin),
            ));
            self.ink(INK);
            self.surface.draw_path(&path);
            self.surface.pop();
        }
        let caption = QR_BOX.y + QR_BOX.h + 2.8;
        self.text("扫码验真", QR_BOX.x + QR_BOX.w / 2.0, caption, QR_BOX.w, 7.5, Align::Centre)
    }

    /// The unit's 财务专用章 over 收款单位（盖章）: a red ring, a star, the unit's name round
    /// the upper arc. Multiplied onto the page, like ink, so the text under it stays black.
    fn seal(&mut self, unit: &str) -> Result<(), RenderError> {
        const RADIUS: f32 = 20.0;
        const RING: f32 = 1.2;
        const NAME_EM: f32 = 4.4;
        let (cx, cy) = (LEFT + 28.0, FOOTER_BASELINE - 11.0);
        self.surface.push_blend_mode(BlendMode::Multiply);

        self.pen(SEAL_RED, RING);
        if let Some(ring) = circle(cx, cy, RADIUS - RING / 2.0) {
            self.surface.draw_path(&ring);
        }
        self.ink(SEAL_RED);
        if let Some(star) = star(cx, cy, 6.8) {
            self.surface.draw_path(&star);
        }
        // The name reads clockwise along the upper arc, each character upright towards the
        // rim. A long name is spread up to 240°, then set smaller and condensed, as seal
        // cutters do.
        let chars: Vec<char> = unit.chars().filter(|c| !c.is_whitespace()).collect();
        let gaps = chars.len().saturating_sub(1) as f32;
        let max_span = 240f32.to_radians();
        let middle_r = |em: f32| RADIUS - RING - 0.9 - em / 2.0;
        let natural = (NAME_EM + 0.5) / middle_r(NAME_EM);
        let (em, step) = if gaps * natural > max_span {
            let step = max_span / gaps;
            ((step * middle_r(NAME_EM) * 1.3).clamp(3.2, NAME_EM), step)
        } else {
            (NAME_EM, natural.max(150f32.to_radians() / gaps.max(1.0)).min(28f32.to_radians()))
        };
        let condense = ((step * middle_r(em) - 0.4) / em).min(1.0);
        let baseline_r = middle_r(em) - 0.38 * em;
        // Noto Sans has no bold here; a thin stroke round the outlines gives the heavier
        // line of a cut seal, thinner as the characters are condensed.
        let red = Fill { paint: paint(SEAL_RED), ..Fill::default() };
        for (i, ch) in chars.iter().enumerate() {
            let run = self.face.shape(&ch.to_string())?;
            let angle = -gaps * step / 2.0 + i as f32 * step;
            let (sin, cos) = angle.sin_cos();
            let place = Transform::from_row(
                condense * cos,
                condense * sin,
                -sin,
                cos,
                pt(cx + baseline_r * sin),
                pt(cy - baseline_r * cos),
            );
            self.outlines(&run, place, pt(em), &red, 0.15 * condense);
        }

        let motto = self.face.shape("财务专用章")?;
        self.outlines(&motto, Transform::from_translate(pt(cx), pt(cy + 12.6)), pt(3.6), &red, 0.12);
        self.surface.pop();
        Ok(())
    }

    /// A large 作废 stamped across the table. Drawn as outlines, like the seal: it is a
    /// mark on the paper, and as text it would interleave with the table in a reader's
    /// text layer (the reason is printed as text in 备注).
    fn void_stamp(&mut self, t: &TableLayout) -> Result<(), RenderError> {
        let (cx, cy) = (118.0, (TABLE_TOP + t.bottom) / 2.0);
        let word = self.face.shape("作 废")?;
        let size = 54.0;
        let w = width_mm(&word, size);
        let h = size / PT_PER_MM;
        self.surface.push_transform(&Transform::from_rotate_at(-18.0, pt(cx), pt(cy)));
        self.surface.push_blend_mode(BlendMode::Multiply);
        let faint = NormalizedF32::new(0.75).unwrap_or(NormalizedF32::ONE);
        let ink = Fill { paint: paint(SEAL_RED), opacity: faint, ..Fill::default() };
        self.outlines(&word, Transform::from_translate(pt(cx), pt(cy + cap_offset(size))), size, &ink, 0.0);
        self.surface.set_fill(None);
        for (inset, width) in [(0.0, 1.4), (2.0, 0.5)] {
            self.surface.set_stroke(Some(Stroke {
                paint: paint(SEAL_RED),
                width: pt(width),
                opacity: faint,
                ..Stroke::default()
            }));
            let frame = Area::new(cx - w / 2.0 - 6.0 + inset, cy - h / 2.0 - 4.0 + inset, w + 12.0 - 2.0 * inset, h + 8.0 - 2.0 * inset);
            self.frame(frame);
        }
        self.surface.pop();
        self.surface.pop();
        Ok(())
    }
}
/// How far below the vertical centre of a line its baseline lies: CJK ideographs sit
/// from about -0.12 to 0.88 em, so their middle is 0.38 em above the baseline.
fn cap_offset(size: f32) -> f32 {
    0.38 * size / PT_PER_MM
}

/// Splits text into two halves of about equal length, at a space if there is one near the
/// middle, else between any two characters not inside a run of ASCII (a number, a code).
fn balanced_split(text: &str) -> Option<(&str, &str)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let middle = text.len() / 2;
    let breakable = |i: usize| {
        let (at, ch) = chars[i];
        let (_, before) = chars[i - 1];
        (!(ch.is_ascii_graphic() && before.is_ascii_graphic())).then_some(at)
    };
    let at = (1..chars.len()).filter_map(breakable).min_by_key(|at| at.abs_diff(middle))?;
    Some((text[..at].trim_end(), text[at..].trim_start()))
}

/// A circle of four cubic arcs.
fn circle(cx: f32, cy: f32, r: f32) -> Option<Path> {
    const K: f32 = 0.552_284_8;
    let (cx, cy, r) = (pt(cx), pt(cy), pt(r));
    let k = K * r;
    let mut pb = PathBuilder::new();
    pb.move_to(cx + r, cy);
    pb.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    pb.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    pb.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    pb.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    pb.close();
    pb.finish()
}

/// A five-pointed star, one point up, outer radius `r`.
fn star(cx: f32, cy: f32, r: f32) -> Option<Path> {
    // The inner radius that keeps the star's edges straight across.
    let inner = r * 0.381_966;
    let mut pb = PathBuilder::new();
    for i in 0..10 {
        let angle = (-90.0 + 36.0 * i as f32).to_radians();
        let radius = if i % 2 == 0 { r } else { inner };
        let (x, y) = (pt(cx + radius * angle.cos()), pt(cy + radius * angle.sin()));
        if i == 0 {
            pb.move_to(x, y);
        } else {
            pb.line_to(x, y);
        }
    }
    pb.close();
    pb.finish()
}

fn settings() -> Result<SerializeSettings, RenderError> {
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_B)
        .finish()
        .map_err(|e| RenderError::Pdf(format!("PDF/A-2b configuration: {e:?}")))?;
    Ok(SerializeSettings { configuration, ..SerializeSettings::default() })
}

fn metadata(doc: &Document) -> Metadata {
    let local = doc.issued_at.to_offset(SHANGHAI);
    let created = DateTime::new(u16::try_from(local.year()).unwrap_or_default())
        .month(u8::from(local.month()))
        .day(local.day())
        .hour(local.hour())
        .minute(local.minute())
        .second(local.second())
        .utc_offset_hour(8)
        .utc_offset_minute(0);
    Metadata::new()
        .title(format!("{} {}", doc.number.kind.title_zh(), doc.number.display()))
        .creator("Yizhan".to_owned())
        .producer("Yizhan".to_owned())
        .language("zh-CN".to_owned())
        .creation_date(created)
}

#[cfg(test)]
mod tests {
    use yizhan_core::document::LineItem;

    use super::*;

    fn sample() -> Document {
        Document::specimen()
    }

    const URL: &str = "http://127.0.0.1:8750/verify?k=voucher&n=PZ0000001234&h=abc&s=def";

    #[test]
    fn a_rendered_pdf_carries_its_verification_url() {
        let pdf = render(&sample(), URL, &Marks::default()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(qr_url_in(&pdf).as_deref(), Some(URL));
    }

    #[test]
    fn rendering_twice_embeds_the_same_url() {
        let marks = Marks { reprint: true, voided: Some("金额有误".into()) };
        let first = render(&sample(), URL, &marks).unwrap();
        let second = render(&sample(), URL, &marks).unwrap();
        assert_eq!(qr_url_in(&first), qr_url_in(&second));
        assert_eq!(qr_url_in(&second).as_deref(), Some(URL));
    }

    #[test]
    fn long_names_and_many_lines_still_fit_one_page() {
        let mut doc = sample();
        doc.payer = "南京市某某区城市建设投资发展集团有限责任公司暨南京演示花园置业有限公司联合体".into();
        doc.unit.name = "南京市某某区住房和城乡建设局建设工程收费综合服务窗口".into();
        doc.project_name = "演示花园一期二期三期及配套商业综合体和地下停车库建设项目".into();
        doc.lines = (0..8)
            .map(|i| LineItem {
                item_code: format!("1030{i:02}"),
                item_name: "城市基础设施配套费（含市政公用设施配套及地下管网）".into(),
                basis: "住宅 12,000.00 m² × ¥210.00/m²，商业 3,000.00 m² × ¥260.00/m²，车库 8,000.00 m² × ¥60.00/m²".into(),
                amount_fen: 10_000_000,
            })
            .collect();
        doc.total_fen = doc.lines_total();
        let pdf = render(&doc, URL, &Marks { reprint: true, voided: Some("重复开具".into()) }).unwrap();
        assert_eq!(qr_url_in(&pdf).as_deref(), Some(URL));
    }

    #[test]
    fn too_many_lines_are_refused_by_name_and_the_most_that_fit_also_fit_voided() {
        let mut doc = sample();
        doc.lines = vec![doc.lines[0].clone(); 40];
        let max = match render(&doc, URL, &Marks::default()) {
            Err(RenderError::TooManyLines { count: 40, max }) => max,
            other => panic!("{other:?}"),
        };
        assert!(max >= 8, "only {max} lines fit");
        doc.lines.truncate(max);
        doc.total_fen = doc.lines_total();
        render(&doc, URL, &Marks::default()).unwrap();
        render(&doc, URL, &Marks { reprint: true, voided: Some("重复开具".into()) }).unwrap();
    }

    #[test]
    fn a_character_the_font_lacks_is_named() {
        let mut doc = sample();
        doc.payer = "演示\u{E000}公司".into();
        let err = render(&doc, URL, &Marks::default()).unwrap_err();
        assert!(matches!(err, RenderError::MissingGlyph { ch: '\u{E000}', .. }), "{err}");
    }

    #[test]
    fn bytes_that_are_not_a_pdf_have_no_url() {
        assert_eq!(qr_url_in(b"not a pdf"), None);
        assert_eq!(qr_url_in(b""), None);
    }

    #[test]
    fn a_split_falls_near_the_middle_and_not_inside_a_number() {
        assert_eq!(balanced_split("城市基础设施配套费"), Some(("城市基础", "设施配套费")));
        assert_eq!(balanced_split("住宅 12,000.00"), Some(("住宅", "12,000.00")));
        assert_eq!(balanced_split("x"), None);
    }
}
