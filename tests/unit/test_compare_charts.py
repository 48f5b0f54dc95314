"""The Compare page's chart builders: what each chart plots, called directly (no Streamlit)."""

from __future__ import annotations

import pandas as pd

from dashboard.compare_charts import differences_chart, paired_chart, paired_long

ITEMS = pd.DataFrame([
    {"item": 1, "idea": "Plan a garden", "quality_zero_shot": 0.5, "quality_few_shot": 0.8, "quality_difference": 0.3,
     "latency_ms_zero_shot": 900.0, "latency_ms_few_shot": 1200.0, "latency_ms_difference": 300.0},
    {"item": 2, "idea": "Write a haiku", "quality_zero_shot": 0.7, "quality_few_shot": 0.6, "quality_difference": -0.1,
     "latency_ms_zero_shot": 800.0, "latency_ms_few_shot": 700.0, "latency_ms_difference": -100.0},
    {"item": 3, "idea": "Fix a bug", "quality_zero_shot": 0.6, "quality_few_shot": 0.6, "quality_difference": 0.0,
     "latency_ms_zero_shot": None, "latency_ms_few_shot": 650.0, "latency_ms_difference": None},
])


def test_each_idea_is_one_line_from_zero_shot_to_few_shot_coloured_by_the_better_backend():
    long = paired_long(ITEMS, "quality")
    assert long[["item", "backend", "value"]].values.tolist() == [
        [1, "few-shot", 0.8], [1, "zero-shot", 0.5], [2, "few-shot", 0.6], [2, "zero-shot", 0.7],
        [3, "few-shot", 0.6], [3, "zero-shot", 0.6],
    ]
    assert long.groupby("item")["outcome"].first().to_dict() == {
        1: "few-shot better", 2: "zero-shot better", 3: "tie"
    }


def test_for_latency_a_lower_few_shot_value_is_the_better_one_and_missing_values_are_left_out():
    long = paired_long(ITEMS, "latency_ms")
    assert long.groupby("item")["outcome"].first().to_dict() == {
        1: "zero-shot better", 2: "few-shot better", 3: "tie"
    }
    assert len(long[long["item"] == 3]) == 1  # the zero-shot latency is missing: only one point


def test_paired_chart_draws_lines_and_points_per_idea():
    spec = paired_chart(ITEMS, "quality").to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["line", "circle"]
    for layer in spec["layer"]:
        assert layer["encoding"]["detail"]["field"] == "item"
        assert layer["encoding"]["x"]["sort"] == ["zero-shot", "few-shot"]


def test_differences_chart_marks_the_interval_the_mean_and_zero():
    spec = differences_chart(ITEMS, "quality", mean=0.067, ci_low=-0.1, ci_high=0.3).to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]
    assert marks == ["bar", "rect", "rule", "rule", "text"]
    without_interval = differences_chart(ITEMS.iloc[:0], "quality", mean=None, ci_low=None, ci_high=None).to_dict()
    assert len(without_interval["layer"]) == 3  # the (empty) bars, zero and its label


def test_the_zero_line_of_the_differences_chart_is_labelled_as_no_difference():
    spec = differences_chart(ITEMS, "quality", mean=0.067, ci_low=-0.1, ci_high=0.3).to_dict()
    label = spec["layer"][-1]
    assert label["mark"]["type"] == "text" and label["encoding"]["text"] == {"value": "0 = no difference"}
    assert label["encoding"]["x"]["field"] == "zero"
    rule = spec["layer"][-2]
    assert rule["encoding"]["x"]["field"] == "zero" and rule["encoding"]["tooltip"][0]["title"] == "0 = no difference"


def test_differences_that_are_all_equal_are_one_narrow_bar_not_a_block_across_the_plot():
    tied = ITEMS.assign(quality_difference=0.0)
    bins = differences_chart(tied, "quality", mean=0.0, ci_low=0.0, ci_high=0.0).to_dict()["layer"][0]["encoding"]["x"]["bin"]
    low, high = bins["extent"]
    assert low < 0.0 < high and high - low >= 0.1  # room on both sides: the bar is 1/20 of the axis or less
    spread = differences_chart(ITEMS, "quality", mean=0.067, ci_low=-0.1, ci_high=0.3).to_dict()
    assert "extent" not in spread["layer"][0]["encoding"]["x"]["bin"]  # real spreads keep Vega's own bins
