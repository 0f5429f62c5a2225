//! Property tests: for any valid config and time the geometry stays well-formed and in range,
//! and no string handed to a parser can make it panic.

use heart_core::render::{self, TextOptions, Viewport};
use heart_core::{
    AlertThreshold, Bpm, Color, EcgGrid, EcgWave, FramePacer, HeartConfig, HeartFrame, LoveLevel,
    PulseClock, PulseWave, Seconds, Size,
};
use proptest::prelude::*;

fn config() -> impl Strategy<Value = HeartConfig> {
    (
        LoveLevel::MIN..=LoveLevel::MAX,
        Bpm::MIN..=Bpm::MAX,
        Size::MIN..=Size::MAX,
        prop::sample::select(vec!["crimson", "#0af", "#123456", "HotPink"]),
    )
        .prop_map(|(love, bpm, size, color)| HeartConfig {
            love_level: LoveLevel::new(love).expect("strategy stays in range"),
            bpm: Bpm::new(bpm).expect("strategy stays in range"),
            size: Size::new(size).expect("strategy stays in range"),
            color: Color::parse(color).expect("strategy colours are valid"),
            ..HeartConfig::default()
        })
}

proptest! {
    #[test]
    fn outline_is_closed_finite_and_inside_its_box(cfg in config(), t in 0.0..Seconds::MAX) {
        let frame = HeartFrame::at(&cfg, Seconds::new(t).expect("in range"));
        let pts = frame.outline.points();
        prop_assert_eq!(pts.len(), 128);
        let bound = frame.pulse_factor + 1e-9;
        for p in pts {
            prop_assert!(p.x.is_finite() && p.y.is_finite());
            prop_assert!(p.x.abs() <= bound && p.y.abs() <= bound);
        }
        // Closed: the gap from the last point back to the first is an ordinary step, no jump.
        let step = |a: &heart_core::Point, b: &heart_core::Point| (a.x - b.x).hypot(a.y - b.y);
        let max_step = pts.windows(2).map(|w| step(&w[0], &w[1])).fold(0.0, f64::max);
        prop_assert!(step(&pts[127], &pts[0]) <= max_step + 1e-12);
    }

    #[test]
    fn pulse_factor_stays_in_its_band(love in 1u8..=10, bpm in 30u16..=220, phase in -1e6f64..1e6) {
        let wave = PulseWave::new(Bpm::new(bpm).expect("in range"), LoveLevel::new(love).expect("in range"));
        let f = wave.factor(phase);
        prop_assert!((1.0..=1.0 + wave.amplitude()).contains(&f));
        prop_assert!(f <= PulseWave::MAX_FACTOR);
    }

    #[test]
    fn ecg_stays_in_unit_band_and_maps_inside_the_grid(
        bpm in 30u16..=220, t in -1e6f64..1e6, rows in 1usize..64, cols in 1usize..200, rate in 0.1f64..100.0,
    ) {
        let y = EcgWave::new(Bpm::new(bpm).expect("in range")).y(t);
        prop_assert!((-1.0..=1.0).contains(&y));
        let grid = EcgGrid { rows, cols, rate };
        prop_assert!(grid.row(y) < rows);
        prop_assert!(grid.col(t) < cols);
    }

    #[test]
    fn clock_phase_never_jumps_when_bpm_changes(
        steps in prop::collection::vec((30u16..=220, 0.0f64..0.1), 1..50),
    ) {
        let mut clock = PulseClock::new(Bpm::DEFAULT);
        for (bpm, dt) in steps {
            let before = clock.phase();
            clock.set_bpm(Bpm::new(bpm).expect("in range"));
            prop_assert_eq!(clock.phase(), before);
            clock.advance(dt);
            prop_assert!(clock.phase() - before <= dt * 220.0 / 60.0 + 1e-9);
        }
    }

    #[test]
    fn pacer_steps_add_up_to_wall_time(intervals in prop::collection::vec(1.0f64..100.0, 1..200), costs in prop::collection::vec(0.0f64..40.0, 200)) {
        let mut pacer = FramePacer::new();
        let (mut now, mut stepped, mut last_rendered) = (0.0, 0.0, 0.0);
        pacer.begin_frame(now);
        for (interval, cost) in intervals.iter().zip(&costs) {
            now += interval;
            if let Some(dt) = pacer.begin_frame(now) {
                prop_assert!(dt >= 0.0);
                stepped += dt;
                last_rendered = now;
                pacer.end_frame(*cost);
            }
        }
        prop_assert!((stepped - last_rendered / 1000.0).abs() < 1e-9);
    }

    #[test]
    fn config_parsers_never_panic(raw in ".{0,80}") {
        let _ = LoveLevel::parse(&raw);
        let _ = Bpm::parse(&raw);
        let _ = Size::parse(&raw);
        let _ = AlertThreshold::parse(&raw);
        let _ = Seconds::parse(&raw);
        let _ = Color::parse(&raw);
        let _ = HeartConfig::default().with_values([(raw.as_str(), raw.as_str())]);
    }

    #[test]
    fn numeric_looking_input_parses_or_names_the_range(raw in "[-+]?[0-9]{0,25}(\\.[0-9]{0,3})?") {
        match Bpm::parse(&raw) {
            Ok(b) => prop_assert!((Bpm::MIN..=Bpm::MAX).contains(&b.get())),
            Err(e) => prop_assert!(e.to_string().contains("30..=220"), "{}", e),
        }
    }

    #[test]
    fn every_renderer_accepts_every_valid_frame(cfg in config(), t in 0.0f64..100.0) {
        let cfg = HeartConfig { size: Size::new(cfg.size.get().min(128)).expect("in range"), ..cfg };
        let frame = HeartFrame::at(&cfg, Seconds::new(t).expect("in range"));
        prop_assert!(render::svg(&frame).ends_with("</svg>\n"));
        prop_assert!(serde_json::from_str::<serde_json::Value>(&render::json(&frame)).is_ok());
        prop_assert!(render::png(&frame).is_ok());
        let text = render::text(&frame, &TextOptions::default());
        prop_assert!(text.lines().count() > 20);
        let vp = Viewport::new(f64::from(cfg.size.get()));
        for p in frame.outline.points() {
            let (x, y) = vp.to_pixels(*p);
            prop_assert!(x > 0.0 && y > 0.0 && x < f64::from(cfg.size.get()) && y < f64::from(cfg.size.get()));
        }
    }
}
