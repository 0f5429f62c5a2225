//! Criterion benchmarks: outline computation and the SVG, JSON, PNG and text renderers.
//! Run with `cargo bench -p heart-core`; figures are reported, never asserted.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use heart_core::{HeartConfig, HeartFrame, HeartOutline, Seconds, render};

fn benches(c: &mut Criterion) {
    let config = HeartConfig::default();
    let t = Seconds::new(0.25).expect("valid time");
    let frame = HeartFrame::at(&config, t);
    c.bench_function("outline", |b| {
        b.iter(|| HeartOutline::scaled(black_box(1.1)))
    });
    c.bench_function("frame", |b| {
        b.iter(|| HeartFrame::at(black_box(&config), t))
    });
    c.bench_function("svg", |b| b.iter(|| render::svg(black_box(&frame))));
    c.bench_function("json", |b| b.iter(|| render::json(black_box(&frame))));
    c.bench_function("png_256", |b| b.iter(|| render::png(black_box(&frame))));
    c.bench_function("text", |b| {
        b.iter(|| render::text(black_box(&frame), &render::TextOptions::default()))
    });
}

criterion_group!(render_benches, benches);
criterion_main!(render_benches);
