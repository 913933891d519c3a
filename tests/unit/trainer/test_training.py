"""A training job from a dataset file to a model file, and the reasons it is refused (no broker, no database)."""

from __future__ import annotations

import math
from pathlib import Path

import joblib
import pytest

from services.trainer import demo_data
from services.trainer.adapters import datasets, model_files
from services.trainer.domain.errors import CannotTrain
from services.trainer.domain.estimators import Champion, EstimatorFamily
from services.trainer.domain.job import Job
from services.trainer.domain.package import model_package_id
from services.trainer.entrypoints.training import train
from services.trainer.settings import TrainingSettings
from shared.contract.events.retraining import ModelSelection
from shared.contract.events.values import Feature, TargetType

AUTO = ModelSelection.AUTOPILOT_RECOMMENDED
CUSTOMERS = [
    {"tenure_months": 2, "monthly_charges": 110.0, "support_calls": 7, "age": 30, "plan": "basic"},
    {"tenure_months": 70, "monthly_charges": 20.0, "support_calls": 0, "age": 60, "plan": "premium"},
]


@pytest.fixture(scope="module")
def churn_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_data.write(tmp_path_factory.mktemp("data") / "churn.csv", 800)


@pytest.fixture
def settings(tmp_path: Path, churn_csv: Path) -> TrainingSettings:
    return TrainingSettings(model_dir=tmp_path / "models", dataset_root=churn_csv.parent, tree_count=10)


def job(dataset: str = "churn.csv", target: str = "churned", selection: ModelSelection = AUTO, **over: object) -> Job:
    return Job(run_id="run-1", deployment_id="dep-1", dataset=dataset, target_name=target, selection=selection, **over)  # type: ignore[arg-type]


def test_autopilot_fits_each_family_keeps_the_lowest_log_loss_and_writes_a_model_that_predicts(
    settings: TrainingSettings,
) -> None:
    trained = train(job(), Champion(), settings)

    assert list(trained.leaderboard) == ["linear", "random_forest", "gradient_boosting"]
    assert trained.selection_metric == "LogLoss"
    losses = {family: metrics["LogLoss"] for family, metrics in trained.leaderboard.items()}
    assert trained.family.value == min(losses, key=losses.__getitem__)
    assert set(trained.metrics) == {"LogLoss", "AUC", "Accuracy"}
    assert 0.6 < trained.metrics["AUC"] <= 1
    package = trained.package
    assert (package.model_package_id, package.target_type, package.target_classes) == (
        model_package_id("run-1"),
        TargetType.BINARY,
        ("no", "yes"),
    )
    assert [(f.name, f.type) for f in package.features] == [
        ("tenure_months", "Numeric"),
        ("monthly_charges", "Numeric"),
        ("support_calls", "Numeric"),
        ("age", "Numeric"),
        ("plan", "Categorical"),
    ]
    assert trained.model_file == settings.model_dir / f"{model_package_id('run-1')}.joblib"

    bundle = joblib.load(trained.model_file)  # a plain dict: no project code needed to use it
    assert bundle["model_package_id"] == model_package_id("run-1")
    assert bundle["estimator"]["family"] == trained.family.value
    assert model_files.predict(bundle, CUSTOMERS) == ["yes", "no"]
    unseen = [{"tenure_months": None, "plan": "platinum"}]  # missing numbers and an unseen plan
    assert model_files.predict(bundle, unseen)[0] in {"yes", "no"}


def test_the_same_job_fits_the_same_model(settings: TrainingSettings) -> None:
    first = train(job(), Champion(), settings)
    again = train(job(), Champion(), settings)
    assert again.leaderboard == first.leaderboard


def test_same_hyperparameters_refits_the_champion_family_with_its_settings(settings: TrainingSettings) -> None:
    champion = Champion("pkg-0", "RandomForestClassifier", {"n_estimators": 5, "max_depth": 3})
    trained = train(job(selection=ModelSelection.SAME_HYPERPARAMETERS), champion, settings)
    assert list(trained.leaderboard) == ["random_forest"]
    assert trained.hyperparameters["n_estimators"] == 5
    assert trained.hyperparameters["max_depth"] == 3
    assert model_files.load(trained.model_file)["model"].named_steps["estimator"].n_estimators == 5


def test_same_blueprint_on_a_numeric_target_fits_a_regressor_of_the_champion_family(
    settings: TrainingSettings,
) -> None:
    regression = job(target="monthly_charges", selection=ModelSelection.SAME_BLUEPRINT)
    trained = train(regression, Champion(family="gradient_boosting"), settings)
    assert trained.family is EstimatorFamily.GRADIENT_BOOSTING
    assert trained.package.target_type is TargetType.REGRESSION
    assert set(trained.metrics) == {"RMSE", "MAE", "R Squared"}
    assert Feature(name="churned", type="Categorical") in trained.package.features
    prediction = model_files.predict(model_files.load(trained.model_file), CUSTOMERS)[0]
    assert math.isfinite(prediction)


def test_a_target_of_three_classes_is_multiclass(settings: TrainingSettings) -> None:
    trained = train(job(target="plan", selection=ModelSelection.SAME_BLUEPRINT), Champion(family="linear"), settings)
    assert trained.package.target_type is TargetType.MULTICLASS
    assert trained.package.target_classes == ("basic", "premium", "standard")
    assert set(trained.metrics) == {"LogLoss", "Accuracy"}


def test_dates_and_booleans_become_date_and_categorical_features(tmp_path: Path, settings: TrainingSettings) -> None:
    lines = ["signed_up,is_business,spend,churned"]
    lines += [
        f"2024-01-{1 + i % 28:02d},{'true' if i % 3 else 'false'},{i % 17},{'yes' if i % 4 == 0 else 'no'}"
        for i in range(80)
    ]
    (tmp_path / "dated.csv").write_text("\n".join(lines) + "\n")
    trained = train(
        job(str(tmp_path / "dated.csv"), selection=ModelSelection.SAME_BLUEPRINT), Champion(family="linear"), settings
    )
    assert [(f.name, f.type) for f in trained.package.features] == [
        ("signed_up", "Date"),
        ("is_business", "Categorical"),
        ("spend", "Numeric"),
    ]
    bundle = model_files.load(trained.model_file)
    assert model_files.predict(bundle, [{"signed_up": "2024-02-01", "is_business": True, "spend": 3}])[0] in {
        "yes",
        "no",
    }


def test_parquet_is_read_like_csv(tmp_path: Path, settings: TrainingSettings) -> None:
    path = demo_data.write(tmp_path / "churn.parquet", 300)
    trained = train(job(str(path), selection=ModelSelection.SAME_BLUEPRINT), Champion(family="linear"), settings)
    assert trained.package.target_classes == ("no", "yes")
    assert [f.name for f in trained.package.features][-1] == "plan"


@pytest.mark.parametrize(
    ("dataset", "target", "reason"),
    [
        ("missing.csv", "churned", "dataset not found: .*missing.csv"),
        ("churn.csv", "churn", "target column 'churn' is not in the dataset \\(columns: tenure_months, "),
        ("notes.txt", "churned", "notes.txt: .txt is not a format the trainer reads \\(CSV or Parquet\\)"),
        ("broken.csv", "churned", "broken.csv could not be read as CSV"),
        ("s3://bucket/churn.csv", "churned", "only local files are supported, not s3://"),
        ("one_class.csv", "churned", "one value only \\('no'\\)"),
    ],
)
def test_a_job_that_cannot_be_trained_says_why(
    tmp_path: Path, settings: TrainingSettings, dataset: str, target: str, reason: str
) -> None:
    (settings.dataset_root / "notes.txt").write_text("hello")
    (settings.dataset_root / "broken.csv").write_text("a,b\n1,2\n3,4,5\n")
    (settings.dataset_root / "one_class.csv").write_text("x,churned\n" + "1,no\n" * 30)
    with pytest.raises(CannotTrain, match=reason):
        train(job(dataset, target), Champion(), settings)
    assert not settings.model_dir.exists() or not any(settings.model_dir.iterdir())


def test_same_blueprint_of_a_family_this_trainer_does_not_fit_falls_back_to_autopilot(
    settings: TrainingSettings,
) -> None:
    trained = train(job(selection=ModelSelection.SAME_BLUEPRINT), Champion("pkg-0", "XGBoost"), settings)
    assert list(trained.leaderboard) == ["linear", "random_forest", "gradient_boosting"]
    assert trained.fallback is not None
    assert "XGBoost" in trained.fallback


def test_an_unknown_hyperparameter_is_refused_naming_it(settings: TrainingSettings) -> None:
    champion = Champion("pkg-0", "linear", {"n_estimators": 5})
    with pytest.raises(CannotTrain, match=r"n_estimators do not apply to linear \(LogisticRegression\)"):
        train(job(selection=ModelSelection.SAME_HYPERPARAMETERS), champion, settings)


def test_an_invalid_hyperparameter_value_is_refused_with_the_estimators_reason(settings: TrainingSettings) -> None:
    champion = Champion("pkg-0", "random_forest", {"n_estimators": -1})
    with pytest.raises(CannotTrain, match=r"random_forest could not be fitted: .*n_estimators"):
        train(job(selection=ModelSelection.SAME_HYPERPARAMETERS), champion, settings)


def test_relative_paths_resolve_against_the_root_and_file_urls_are_paths(tmp_path: Path) -> None:
    assert datasets.resolve("a/b.csv", tmp_path) == tmp_path / "a/b.csv"
    assert datasets.resolve("/data/b.csv", tmp_path) == Path("/data/b.csv")
    assert datasets.resolve("file:///data/my%20b.csv", tmp_path) == Path("/data/my b.csv")


def test_the_demo_dataset_is_deterministic_and_its_drifted_variant_differs(tmp_path: Path) -> None:
    first = demo_data.write(tmp_path / "a.csv", 500).read_bytes()
    assert demo_data.write(tmp_path / "b.csv", 500).read_bytes() == first
    assert first.startswith(b"tenure_months,monthly_charges,support_calls,age,plan,churned\n")
    assert len(first.splitlines()) == 501

    def churn_share(rows: list[dict[str, object]]) -> float:
        return sum(row["churned"] == "yes" for row in rows) / len(rows)

    assert churn_share(list(demo_data.rows(2000, drifted=True))) > churn_share(list(demo_data.rows(2000))) + 0.1
