mod scenes;

use super::geometry::{order_corners, signed_area};
use super::*;
use crate::quality::{decode_bounded, ImageView};
use scenes::{Object, Scene};

/// A textured grey desk with a light card of the given corners painted on it.
fn frame_with_card(w: u32, h: u32, card: Option<[[f32; 2]; 4]>) -> Vec<u8> {
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    let mut seed = 7u32;
    for y in 0..h {
        for x in 0..w {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (seed >> 28) as u8;
            let inside = card.is_some_and(|q| geometry::quad_contains(&q, [x as f32, y as f32]));
            let v = if inside {
                [225, 220, 200]
            } else {
                [110, 95, 80]
            };
            px.extend(v.map(|c: u8| c.saturating_add(noise)));
        }
    }
    px
}

fn mean_corner_error(a: &[[f32; 2]; 4], b: &[[f32; 2]; 4]) -> f32 {
    (0..4)
        .map(|k| {
            (0..4)
                .map(|i| (a[i][0] - b[(i + k) % 4][0]).hypot(a[i][1] - b[(i + k) % 4][1]))
                .sum::<f32>()
                / 4.0
        })
        .fold(f32::MAX, f32::min)
}

/// A frame of the evaluation set's style with one object on the desk.
fn scene(
    desk_seed: u32,
    light_desk: bool,
    object: Object,
    centre: [f32; 2],
    long: f32,
    degrees: f32,
) -> (Scene, [[f32; 2]; 4]) {
    let mut s = Scene::desk(640, 360, desk_seed, light_desk);
    let corners = s.place(object, centre, long, degrees, desk_seed + 10);
    (s, corners)
}

fn find(s: &Scene, kind: Kind) -> Option<Document> {
    find_document(&ImageView::rgb(&s.px, s.w, s.h), kind)
}

#[test]
fn identity_documents_on_textured_desks_are_found_with_their_corners_and_fill() {
    let cases = [
        (
            "tilted card",
            scene(1, false, Object::Card, [330.0, 180.0], 300.0, 18.0),
        ),
        (
            "passport page",
            scene(2, false, Object::Passport, [320.0, 175.0], 280.0, -25.0),
        ),
        (
            "upright card, light desk",
            scene(3, true, Object::Card, [300.0, 180.0], 260.0, 98.0),
        ),
        (
            "small card",
            scene(6, false, Object::Card, [200.0, 150.0], 170.0, 5.0),
        ),
    ];
    let diag = 640f32.hypot(360.0);
    for (name, (s, truth)) in cases {
        let doc = find(&s, Kind::Id).unwrap_or_else(|| panic!("{name}: no document"));
        // The evaluation's criterion: mean corner error within 2 % of the
        // diagonal (the portrait inside the card is a rectangle too).
        let err = mean_corner_error(&doc.corners, &truth);
        assert!(err < 0.02 * diag, "{name}: error {err} px, {doc:?}");
        let fill = signed_area(&truth).abs() / (640.0 * 360.0);
        assert!(
            (doc.fill - fill).abs() < 0.02,
            "{name}: fill {} vs {fill}",
            doc.fill
        );
        assert!(!doc.cut, "{name}");
        assert!(doc.score > 0.0 && doc.score <= 1.0, "{name}: {doc:?}");
        // Top-left first, clockwise.
        assert_eq!(doc.corners, order_corners(doc.corners), "{name}");
    }
}

#[test]
fn paper_phones_books_and_bare_desks_are_not_identity_documents() {
    let cases = [
        ("bare desk", Scene::desk(640, 360, 7, false)),
        ("bare light desk", Scene::desk(640, 360, 8, true)),
        (
            "A4 sheet, upright",
            scene(9, false, Object::A4, [320.0, 180.0], 320.0, 95.0).0,
        ),
        (
            "A4 sheet, across",
            scene(9, false, Object::A4, [320.0, 180.0], 300.0, 10.0).0,
        ),
        (
            "phone",
            scene(10, false, Object::Phone, [320.0, 180.0], 260.0, -8.0).0,
        ),
        (
            "book",
            scene(11, false, Object::Book, [320.0, 180.0], 260.0, 70.0).0,
        ),
    ];
    for (name, s) in cases {
        assert_eq!(find(&s, Kind::Id), None, "{name}");
    }
}

#[test]
fn the_content_models_listing_is_what_the_detector_weighs() {
    // The listing the model is fitted on (scripts/detect/fit_content_model.py)
    // must be the detector's own pool, in its order: the first quad with
    // positive log-odds is the document found, and without one none is.
    let (card, _) = scene(1, false, Object::Card, [330.0, 180.0], 300.0, 18.0);
    let (a4, _) = scene(9, false, Object::A4, [320.0, 180.0], 320.0, 95.0);
    for (name, s, is_id) in [("card", card, true), ("A4 sheet", a4, false)] {
        let view = ImageView::rgb(&s.px, s.w, s.h);
        let pool = id_pool_features(&view);
        assert!(!pool.is_empty(), "{name}: nothing weighed");
        assert!(
            pool.iter().all(|q| q.features[FEATURES - 1] == 1.0),
            "{name}: bias feature"
        );
        let first = pool.iter().find(|q| q.log_odds > 0.0);
        let found = find_document(&view, Kind::Id);
        assert_eq!(found.is_some(), is_id, "{name}: {found:?}");
        assert_eq!(first.is_some(), is_id, "{name}: {pool:?}");
        if let (Some(q), Some(d)) = (first, found) {
            let err = mean_corner_error(&order_corners(q.corners), &d.corners);
            assert!(err < 1e-3, "{name}: {q:?} vs {d:?}");
        }
    }
}

#[test]
fn an_a4_sheet_is_a_page() {
    let (s, truth) = scene(9, false, Object::A4, [320.0, 180.0], 320.0, 95.0);
    let page = find(&s, Kind::Page).expect("a page");
    let diag = 640f32.hypot(360.0);
    assert!(
        mean_corner_error(&page.corners, &truth) < 0.02 * diag,
        "{page:?}"
    );
}

#[test]
fn a_bare_desk_has_no_document() {
    let px = frame_with_card(640, 360, None);
    assert_eq!(
        find_document(&ImageView::rgb(&px, 640, 360), Kind::Id),
        None
    );
}

#[test]
fn a_phone_shaped_rectangle_is_not_an_identity_document() {
    // Aspect 2.1, like a phone lying on the desk.
    let q = [
        [200.0, 100.0],
        [410.0, 100.0],
        [410.0, 200.0],
        [200.0, 200.0],
    ];
    let px = frame_with_card(640, 360, Some(q));
    assert_eq!(
        find_document(&ImageView::rgb(&px, 640, 360), Kind::Id),
        None
    );
}

#[test]
fn empty_and_inconsistent_views_have_nothing() {
    let px = [0u8; 12];
    assert_eq!(find_document(&ImageView::rgb(&px, 0, 0), Kind::Id), None);
    assert_eq!(
        find_document(&ImageView::rgb(&px, 100, 100), Kind::Page),
        None
    );
    let faces = FaceDetector::builtin().unwrap();
    assert!(faces.detect(&ImageView::rgb(&px, 100, 100)).is_empty());
}

/// A decoded picture of `tests/data/detect/` (also for the face module's
/// tests).
pub(super) fn fixture(name: &str) -> crate::quality::Decoded {
    let path = format!("{}/tests/data/detect/{name}", env!("CARGO_MANIFEST_DIR"));
    decode_bounded(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn two_people_are_two_faces_and_a_desk_is_none() {
    let faces = FaceDetector::builtin().unwrap();
    let d = fixture("two_faces.jpg");
    let found = faces.detect(&ImageView::rgb(&d.rgb, d.width, d.height));
    assert_eq!(found.len(), 2, "{found:?}");
    // The pasted faces' boxes, known by construction (scaled to 640x360).
    let truth = [[205.0, 72.5, 121.5, 154.5], [426.0, 205.5, 61.0, 77.0]];
    for t in truth {
        assert!(
            found.iter().any(|f| box_iou(&f.bbox, &t) >= 0.5),
            "{t:?} in {found:?}"
        );
    }
    let d = fixture("no_face.jpg");
    assert!(faces
        .detect(&ImageView::rgb(&d.rgb, d.width, d.height))
        .is_empty());
}

#[test]
fn a_portrait_inside_the_document_or_small_is_not_a_selfie() {
    let doc = Document {
        corners: [
            [100.0, 100.0],
            [400.0, 100.0],
            [400.0, 300.0],
            [100.0, 300.0],
        ],
        fill: 0.3,
        cut: false,
        score: 1.0,
    };
    let printed = Face {
        bbox: [120.0, 150.0, 60.0, 80.0],
        score: 0.9,
    };
    let person = Face {
        bbox: [450.0, 50.0, 150.0, 190.0],
        score: 0.9,
    };
    let far = Face {
        bbox: [500.0, 300.0, 20.0, 25.0],
        score: 0.9,
    };
    let kept = selfie_faces(&[printed, person, far], Some(&doc), 480, 0.2);
    assert_eq!(kept, vec![person]);
    assert_eq!(selfie_faces(&[printed, person], None, 480, 0.1).len(), 2);
}

#[test]
fn overlap_measures() {
    assert!((box_iou(&[0.0, 0.0, 10.0, 10.0], &[5.0, 0.0, 10.0, 10.0]) - 1.0 / 3.0).abs() < 1e-5);
    assert_eq!(box_iou(&[0.0, 0.0, 1.0, 1.0], &[5.0, 5.0, 1.0, 1.0]), 0.0);
    let a = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
    let b = [[5.0, 0.0], [15.0, 0.0], [15.0, 10.0], [5.0, 10.0]];
    assert!((quad_iou(&a, &b) - 1.0 / 3.0).abs() < 1e-4);
    // Orientation does not matter.
    let reversed = [a[3], a[2], a[1], a[0]];
    assert!((quad_iou(&a, &reversed) - 1.0).abs() < 1e-5);
}

#[test]
fn corners_are_ordered_from_the_top_left_clockwise() {
    let q = [[10.0, 90.0], [90.0, 90.0], [90.0, 10.0], [10.0, 10.0]];
    assert_eq!(
        order_corners(q),
        [[10.0, 10.0], [90.0, 10.0], [90.0, 90.0], [10.0, 90.0]]
    );
}
