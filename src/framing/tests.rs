use super::*;

const W: u32 = 1920;
const H: u32 = 1080;

/// A document centred in the frame with `fill` of its area.
fn doc(fill: f32, cut: bool) -> Document {
    let (w, h) = (W as f32, H as f32);
    let side = (fill).sqrt();
    let (x0, y0) = (w * (1.0 - side) / 2.0, h * (1.0 - side) / 2.0);
    let (x1, y1) = (w - x0, h - y0);
    Document {
        corners: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
        fill,
        cut,
        score: 0.9,
    }
}

/// A face of `height` (share of the frame) centred at (`cx`, `cy`) (shares).
fn face(height: f32, cx: f32, cy: f32) -> Face {
    let s = height * H as f32;
    Face {
        bbox: [cx * W as f32 - s / 2.0, cy * H as f32 - s / 2.0, s, s],
        score: 0.9,
    }
}

fn doc_issue(fill: f32, cut: bool) -> Option<Issue> {
    judge_document(Some(&doc(fill, cut)), W, H).issue
}

#[test]
fn document_rules_and_their_boundaries() {
    let cases = [
        (0.10, false, Some(Issue::DocumentTooFar)),
        (0.449, false, Some(Issue::DocumentTooFar)),
        (0.45, false, None),
        (0.6, false, None),
        (0.9, false, None),
        (0.901, false, Some(Issue::DocumentTooClose)),
        // Cut wins over the fill: the fill of a cut document is not its own.
        (0.6, true, Some(Issue::DocumentCut)),
        (0.2, true, Some(Issue::DocumentCut)),
    ];
    for (fill, cut, want) in cases {
        assert_eq!(doc_issue(fill, cut), want, "fill {fill} cut {cut}");
    }
}

#[test]
fn no_document_asks_to_place_it_and_has_no_outline() {
    let f = judge_document(None, W, H);
    assert_eq!(f.issue, Some(Issue::NoDocument));
    assert_eq!(f.outline, None);
}

#[test]
fn document_outline_is_in_frame_units_and_clamped() {
    let mut d = doc(0.25, false);
    let f = judge_document(Some(&d), W, H);
    let o = f.outline.unwrap();
    assert!((o.0[0][0] - 0.25).abs() < 1e-4 && (o.0[2][1] - 0.75).abs() < 1e-4);
    d.corners[1] = [W as f32 + 50.0, -20.0];
    let o = judge_document(Some(&d), W, H).outline.unwrap();
    assert_eq!(o.0[1], [1.0, 0.0]);
    assert_eq!(
        serde_json::to_value(o).unwrap().as_array().unwrap().len(),
        4
    );
}

#[test]
fn selfie_rules_and_their_boundaries() {
    let cases = [
        (vec![], Some(Issue::NoFace)),
        (vec![face(0.35, 0.5, 0.5)], None),
        // Height: 20 % of the frame is enough, a little less is not.
        (vec![face(0.20, 0.5, 0.5)], None),
        (vec![face(0.195, 0.5, 0.5)], Some(Issue::FaceTooSmall)),
        // Too small to count as a person at all: still "come closer".
        (vec![face(0.03, 0.5, 0.5)], Some(Issue::FaceTooSmall)),
        // Centre: inside the middle half both ways.
        (vec![face(0.3, 0.26, 0.5)], None),
        (vec![face(0.3, 0.24, 0.5)], Some(Issue::FaceOffCentre)),
        (vec![face(0.3, 0.74, 0.74)], None),
        (vec![face(0.3, 0.5, 0.76)], Some(Issue::FaceOffCentre)),
        // Cut by the edge, although centred.
        (vec![face(1.1, 0.5, 0.5)], Some(Issue::FaceOffCentre)),
        // Two people, even one small in the back.
        (
            vec![face(0.35, 0.5, 0.5), face(0.08, 0.85, 0.2)],
            Some(Issue::SeveralFaces),
        ),
        // A face too far away to count does not make two.
        (vec![face(0.35, 0.5, 0.5), face(0.05, 0.85, 0.2)], None),
    ];
    for (faces, want) in cases {
        assert_eq!(judge_selfie(&faces, None, W, H).issue, want, "{faces:?}");
    }
}

#[test]
fn the_portrait_on_a_card_in_view_is_not_a_second_person() {
    // The card in the lower left, its portrait inside it.
    let card = Document {
        corners: [
            [100.0, 600.0],
            [700.0, 600.0],
            [700.0, 1000.0],
            [100.0, 1000.0],
        ],
        fill: 0.12,
        cut: false,
        score: 0.9,
    };
    let portrait = Face {
        bbox: [150.0, 650.0, 120.0, 120.0],
        score: 0.8,
    };
    let me = face(0.35, 0.5, 0.45);
    let f = judge_selfie(&[me, portrait], Some(&card), W, H);
    assert_eq!(f.issue, None);
    assert_eq!(f.outline, Some(Outline::of_box(&me.bbox, W, H)));
    // Without the card found, the portrait counts.
    assert_eq!(
        judge_selfie(&[me, portrait], None, W, H).issue,
        Some(Issue::SeveralFaces)
    );
}

#[test]
fn outline_iou_and_bounds() {
    let a = Outline::of_box(&[192.0, 108.0, 960.0, 540.0], W, H);
    assert!((a.iou(&a) - 1.0).abs() < 1e-5);
    let b = Outline::of_box(&[192.0 + 96.0, 108.0, 960.0, 540.0], W, H);
    // Shifted by a tenth of its width: 0.9 / 1.1 overlap.
    assert!((a.iou(&b) - 0.9 / 1.1).abs() < 1e-3, "{}", a.iou(&b));
    assert_eq!(
        a.bounds(W, H),
        Roi {
            x: 192,
            y: 108,
            width: 960,
            height: 540
        }
    );
}

#[test]
fn the_demo_scenes_pass_or_fail_as_intended() {
    let dir = crate::camera::demo::default_dir();
    let det = Detectors::builtin().unwrap();
    let look = |file: &str, role: Role| {
        let d = crate::quality::decode_bounded(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        det.look(role, &ImageView::rgb(&d.rgb, d.width, d.height))
            .framing
            .issue
    };
    assert_eq!(look("front.jpg", Role::Document), None);
    assert_eq!(look("back.jpg", Role::Document), None);
    assert_eq!(look("face.jpg", Role::Selfie), None);
    assert_eq!(
        look("front_far.jpg", Role::Document),
        Some(Issue::DocumentTooFar)
    );
    assert!(matches!(
        look("front_cut.jpg", Role::Document),
        Some(Issue::NoDocument | Issue::DocumentCut)
    ));
    assert_eq!(
        look("face_two.jpg", Role::Selfie),
        Some(Issue::SeveralFaces)
    );
    // The utility bill passes as a page, and is no identity document.
    let d = crate::quality::decode_bounded(&std::fs::read(dir.join("bill.jpg")).unwrap()).unwrap();
    let view = ImageView::rgb(&d.rgb, d.width, d.height);
    let page = det.look_for(Role::Document, Kind::Page, &view);
    assert_eq!(page.framing.issue, None, "{page:?}");
    assert!(page.document.is_some_and(|p| p.fill > PAGE_MIN_FILL));
}

#[test]
fn pages_may_fill_less_of_the_frame_than_cards() {
    let page = |fill: f32| judge_document_for(Kind::Page, Some(&doc(fill, false)), W, H).issue;
    assert_eq!(page(0.25), None);
    assert_eq!(page(0.34), None);
    assert_eq!(page(0.249), Some(Issue::DocumentTooFar));
    assert_eq!(page(0.901), Some(Issue::DocumentTooClose));
    assert_eq!(
        judge_document_for(Kind::Page, Some(&doc(0.5, true)), W, H).issue,
        Some(Issue::DocumentCut)
    );
    // Cards keep their own lower bound.
    assert_eq!(doc_issue(0.34, false), Some(Issue::DocumentTooFar));
}
