// 工作台: the last 24 hours by hour, drawn with ECharts from the figures the
// page carries (the table beside it stays for reading without scripts).
(function () {
  var el = document.getElementById('hourly-chart');
  if (!el || !window.echarts) return;
  var series = JSON.parse(el.getAttribute('data-series') || '[]');
  var chart = echarts.init(el, null, {renderer: 'canvas'});
  chart.setOption({
    animation: false,
    tooltip: {trigger: 'axis'},
    legend: {data: ['张数', '金额（元）'], top: 0, left: 'center'},
    grid: {left: 50, right: 60, top: 50, bottom: 30},
    xAxis: {type: 'category', data: series.map(function (p) { return p.hour; })},
    yAxis: [{type: 'value', name: '张数'}, {type: 'value', name: '金额（元）'}],
    series: [
      {name: '张数', type: 'bar', data: series.map(function (p) { return p.bills; })},
      {name: '金额（元）', type: 'line', yAxisIndex: 1, data: series.map(function (p) { return p.amount; })}
    ]
  });
  el.setAttribute('data-ready', String(series.length));
  window.addEventListener('resize', function () { chart.resize(); });
})();
