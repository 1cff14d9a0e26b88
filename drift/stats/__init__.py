"""Pure statistics core of Driftwatch: numpy and SciPy only, never Django.

Every module returns floats or frozen dataclasses and is tested against SciPy or a textbook value
without a database. Import the module you need (``from drift.stats import univariate``); this
package deliberately re-exports nothing, so importing one module never pulls in the others.

Modules: ``binning`` (reference-quantile bins and distances between binned counts),
``univariate`` (KS, PSI, Jensen-Shannon, Wasserstein, Hellinger, chi-square), ``thresholds``
(learned thresholds, Benjamini-Hochberg, the drift decision), ``multivariate`` (PCA
reconstruction error, domain classifier), ``quality`` (control limits for data-quality shares
and volume), plus the performance, estimation, calibration, fairness, concept-drift and
attribution modules.
"""
