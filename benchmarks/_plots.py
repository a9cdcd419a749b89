"""The bar chart every benchmark draws: one panel per dataset or task, mean ± std per method.

One place, so the scripts' figures look alike (bars grouped by training size,
one colour per method, the standard deviation over seeds as an error bar and
the mean written on the bar, since a score of 0 is otherwise invisible) and a
change of style reaches them all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def method_colours(panels):
    """One colour of matplotlib's default cycle per method, in order of first appearance.

    Taken over every panel at once: a panel lacking a method (SetFit has no
    regressor, so no STS-B bar) would otherwise shift the colours of the
    methods after it, and one colour would name two methods in one figure.
    """
    methods = dict.fromkeys(method for panel in panels for method in panel["series"])
    return {method: f"C{i % 10}" for i, method in enumerate(methods)}


def spread_note(series):
    """What a panel's error bars show, for its title.

    A method measured on one seed has no standard deviation; its bar is drawn
    without an error bar, and the title says so rather than promise a spread.
    """
    stds = [std for values in series.values() for _, std in values.values()]
    if all(std is None for std in stds):
        return "one seed"
    if any(std is None for std in stds):
        return "mean ± std over seeds (no error bar: one seed)"
    return "mean ± std over seeds"


def draw_panels(path, panels, *, width_per_panel=5.5):
    """Draw grouped bars, one panel each, and save the figure.

    Parameters
    ----------
    path : str or path-like
        The image file; its folder is created.
    panels : list of dict
        One per panel, with ``title``, ``ylabel``, ``groups`` (the x tick
        labels, in order) and ``series``: ``{method: {group: (mean, std)}}``
        (``std`` is None for one seed, drawn without an error bar; a missing
        group leaves a gap). Optional ``ylim`` (a pair) and ``xlabel``. The
        title gets :func:`spread_note` appended.
    width_per_panel : float, default=5.5
        Inches per panel.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display on benchmark machines
    import matplotlib.pyplot as plt

    if not panels:
        return
    colours = method_colours(panels)
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(width_per_panel * len(panels), 4.6),
        squeeze=False,
        constrained_layout=True,
    )
    for ax, panel in zip(axes[0], panels):
        groups, series = panel["groups"], panel["series"]
        width = 0.8 / max(len(series), 1)
        for i, (method, values) in enumerate(series.items()):
            xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(groups))]
            means = [values[g][0] if g in values else np.nan for g in groups]
            # NaN draws no error bar (and no caps): a single seed has no spread.
            stds = [
                values[g][1] if g in values and values[g][1] is not None else np.nan for g in groups
            ]
            bars = ax.bar(
                xs, means, width, yerr=stds, capsize=3, label=method, color=colours[method]
            )
            ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(groups)
        if panel.get("xlabel"):
            ax.set_xlabel(panel["xlabel"])
        ax.set_ylabel(panel["ylabel"])
        ax.set_title(", ".join(filter(None, [panel["title"], spread_note(series)])))
        if panel.get("ylim"):
            ax.set_ylim(*panel["ylim"])
        ax.axhline(0, color="black", linewidth=0.5)
        # Below the panel: inside it, the legend hides the bars it names.
        ax.legend(
            fontsize="small",
            ncol=min(len(series), 4),
            loc="upper center",
            bbox_to_anchor=(0.5, -0.14 if panel.get("xlabel") else -0.08),
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
