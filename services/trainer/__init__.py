"""Trainer: the reference worker that answers training jobs with a real scikit-learn model.

It reads `TrainingRequested` from the training-jobs topic, trains on the dataset file the request
names (CSV or Parquet; a relative path is relative to `TRAINER_TRAINING__DATASET_ROOT`), keeps the
fitted model as a joblib file under `TRAINER_TRAINING__MODEL_DIR` (default `.local/trainer/models`),
registers it with `ModelPackageRegistered` and answers `TrainingSucceeded` or `TrainingFailed`, once
per run id.

    python -m services.trainer.demo_data .local/data/churn.csv              # the demo dataset
    python -m services.trainer.demo_data .local/data/churn-drifted.csv --drifted
    python -m services.trainer                                              # the worker, :8005
"""
