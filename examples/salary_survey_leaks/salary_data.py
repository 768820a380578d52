"""A salary survey: the export joined a 'bonus' column computed from the salary, and the
same respondents were exported twice before the train/test split."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_survey(n: int = 3000, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    years = rng.integers(0, 30, n)
    education = rng.choice(["bachelor", "master", "phd", "none"], n, p=[0.45, 0.3, 0.05, 0.2])
    hours = rng.normal(40, 6, n).round(1)
    base = 30_000 + 2_500 * years + np.where(education == "phd", 15_000, 0)
    salary = (base + rng.normal(0, 12_000, n)).round(-2)
    survey = pd.DataFrame(
        {
            "respondent": np.arange(n),
            "years_experience": years,
            "education": education,
            "weekly_hours": hours,
            "bonus": (salary * 0.1 + rng.normal(0, 300, n)).round(-1),  # derived from the target
            "salary": salary,
        }
    )
    doubled = pd.concat([survey, survey.sample(150, random_state=seed)], ignore_index=True)
    shuffled = doubled.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    cut = int(len(shuffled) * 0.8)
    return shuffled.iloc[:cut], shuffled.iloc[cut:]
