// Chart.js, loaded the first time a view draws a chart (most pages have none), with colours
// taken from the current Bootstrap theme so charts read well in light and dark mode.

let loading = null;

/** window.Chart, once its vendored script has run. */
export function loadChart() {
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const base = JSON.parse(document.getElementById("webui-config").textContent).asset_base;
      const script = document.createElement("script");
      script.src = `${base}/vendor/chart.js/chart.umd.min.js`;
      script.onload = () => resolve(window.Chart);
      script.onerror = () => {
        loading = null;
        reject(new Error("The chart library could not be loaded."));
      };
      document.head.append(script);
    });
  }
  return loading;
}

function cssVariable(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The theme's text, grid and series colours. */
export function chartColors() {
  return {
    text: cssVariable("--bs-body-color"),
    grid: cssVariable("--bs-border-color"),
    series: [
      cssVariable("--bs-primary"),
      cssVariable("--bs-success"),
      cssVariable("--bs-warning"),
      cssVariable("--bs-danger"),
      cssVariable("--bs-info"),
      cssVariable("--bs-secondary"),
    ],
  };
}

/**
 * A Chart on ``canvas`` with theme colours and no animation on updates (live charts redraw
 * often). The caller destroys it when its view goes away (``view.onDestroy(() => chart.destroy())``).
 */
export async function createChart(canvas, config) {
  const Chart = await loadChart();
  const colors = chartColors();
  Chart.defaults.color = colors.text;
  Chart.defaults.borderColor = colors.grid;
  const datasets = config.data.datasets.map((dataset, index) => ({
    borderColor: colors.series[index % colors.series.length],
    backgroundColor: colors.series[index % colors.series.length],
    ...dataset,
  }));
  return new Chart(canvas, {
    ...config,
    data: { ...config.data, datasets },
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
  });
}
