"""Results of a conformance run -> the HTML agreement report (and merging of runs)."""
