//! The clerk's on-screen preview: page 1 of the PDF that will be printed, rasterised by
//! hayro. Rendering the PDF itself rather than a second layout of the same data means the
//! preview cannot disagree with the paper.

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_syntax::{LoadPdfError, Pdf};
use hayro::kurbo::Affine;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use hayro::{RenderCache, RenderSettings, render_into};

/// Below 200 px the page is a thumbnail nobody can check; above 3000 px only costs time
/// and memory. A phone scans the QR off the screen from about 1000 px.
pub const WIDTH_PX: std::ops::RangeInclusive<u32> = 200..=3000;

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("PDF 无法读取：{0}")]
    Unreadable(&'static str),
    #[error("PDF 没有页面")]
    NoPage,
    #[error("预览宽度 {0} 像素超出范围（{min}–{max} 像素）", min = WIDTH_PX.start(), max = WIDTH_PX.end())]
    Width(u32),
    #[error("PDF 页面尺寸异常（{width}×{height} pt），无法预览")]
    PageSize { width: f32, height: f32 },
    #[error("预览图片编码失败：{0}")]
    Png(String),
}

/// Page 1 of `pdf` as PNG, `width_px` wide (height by the page's aspect ratio), white
/// background.
pub fn preview_png(pdf: &[u8], width_px: u32) -> Result<Vec<u8>, PreviewError> {
    if !WIDTH_PX.contains(&width_px) {
        return Err(PreviewError::Width(width_px));
    }
    let pdf = Pdf::new(pdf.to_vec()).map_err(|e| {
        PreviewError::Unreadable(match e {
            LoadPdfError::Decryption(_) => "文件已加密",
            LoadPdfError::Invalid => "不是有效的 PDF 文件",
        })
    })?;
    let page = pdf.pages().first().ok_or(PreviewError::NoPage)?;

    let (width, height) = page.render_dimensions();
    let bad_size = || PreviewError::PageSize { width, height };
    if !(width.is_finite() && height.is_finite() && width > 0.0 && height > 0.0) {
        return Err(bad_size());
    }
    let target_w = u16::try_from(width_px).expect("WIDTH_PX fits in u16");
    let target_h = (f64::from(height) * f64::from(width_px) / f64::from(width)).round();
    // A sliver of a page would round to nothing; a strip taller than u16 cannot be drawn.
    if !(1.0..=f64::from(u16::MAX)).contains(&target_h) {
        return Err(bad_size());
    }
    let target_h = target_h as u16;

    // Our own context rather than `hayro::render`, which truncates page size × scale and
    // can come out a pixel short of the width asked for.
    let mut ctx = RenderContext::new(target_w, target_h);
    let transform = Affine::scale_non_uniform(
        f64::from(target_w) / f64::from(width),
        f64::from(target_h) / f64::from(height),
    ) * page.initial_transform(true).to_kurbo();
    let cache = RenderCache::new();
    render_into(
        page,
        &cache,
        &InterpreterSettings::default(),
        &RenderSettings::default(),
        &mut ctx,
        transform,
    );
    ctx.flush();

    let mut pixmap = Pixmap::new(target_w, target_h);
    ctx.render_with(
        &mut pixmap,
        &mut Resources::default(),
        RasterizerSettings { target_init: TargetInit::Clear(WHITE), ..Default::default() },
    );
    pixmap.into_png().map_err(|e| PreviewError::Png(e.to_string()))
}

#[cfg(test)]
mod tests {
    use yizhan_core::document::Document;

    use super::*;
    use crate::pdf::{Marks, render};

    const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

    fn voucher_pdf() -> Vec<u8> {
        let doc = Document::specimen();
        render(&doc, "http://127.0.0.1:8750/verify?k=voucher&n=PZ0000001234", &Marks::default())
            .unwrap()
    }

    /// Width and height from the IHDR chunk, which a valid PNG has right after the signature.
    fn png_size(png: &[u8]) -> (u32, u32) {
        assert!(png.starts_with(PNG_SIGNATURE), "not a PNG: {:02x?}", &png[..png.len().min(16)]);
        assert_eq!(&png[12..16], b"IHDR");
        let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        (be(16), be(20))
    }

    #[test]
    fn a_voucher_previews_as_a_png_of_the_requested_width_and_a5_proportions() {
        let pdf = voucher_pdf();
        for width in [200, 800, 1600] {
            let (w, h) = png_size(&preview_png(&pdf, width).unwrap());
            assert_eq!(w, width);
            let expected = f64::from(width) * 148.0 / 210.0;
            assert!((f64::from(h) - expected).abs() <= 1.0, "{w}×{h}, expected height ≈ {expected}");
        }
    }

    #[test]
    fn the_preview_is_opaque_white_with_dark_ink_on_it() {
        let png = preview_png(&voucher_pdf(), 800).unwrap();
        let pixmap = Pixmap::from_png(std::io::Cursor::new(png)).unwrap();
        let pixels = pixmap.data();
        assert!(pixels.iter().all(|p| p.a == 255), "the preview has transparent pixels");
        let corner = pixels[0];
        assert_eq!((corner.r, corner.g, corner.b), (255, 255, 255), "the margin is not white");
        // Text, rules and the QR: a blank or washed-out page would have next to none.
        let dark = pixels.iter().filter(|p| u16::from(p.r) + u16::from(p.g) + u16::from(p.b) < 200).count();
        assert!(dark > pixels.len() / 100, "only {dark} of {} pixels are dark", pixels.len());
    }

    #[test]
    fn garbage_is_not_previewed() {
        let err = preview_png(b"this is not a PDF at all", 800).unwrap_err();
        assert!(matches!(err, PreviewError::Unreadable(_)), "{err:?}");
        assert!(err.to_string().starts_with("PDF 无法读取："), "{err}");
        assert!(matches!(preview_png(&[], 800), Err(PreviewError::Unreadable(_))));
    }

    #[test]
    fn widths_outside_the_range_are_refused() {
        let pdf = voucher_pdf();
        for width in [0, 199, 3001, u32::MAX] {
            let err = preview_png(&pdf, width).unwrap_err();
            assert!(matches!(err, PreviewError::Width(w) if w == width), "{err:?}");
        }
        assert_eq!(
            PreviewError::Width(100).to_string(),
            "预览宽度 100 像素超出范围（200–3000 像素）"
        );
    }
}
