// 票据峰值走势: blue bills (bars) with the peak marked and the average line, the
// previous period's bills beside them (dashed), and the net amount.
(function () {
  var el = document.getElementById('trend-chart');
  if (!el || !window.echarts) return;
  var s = JSON.parse(el.getAttribute('data-series') || '[]');
  var chart = echarts.init(el, null, {renderer: 'canvas'});
  chart.setOption({
    animation: false,
    tooltip: {trigger: 'axis'},
    legend: {data: ['张数', '上期张数', '净额（元）'], top: 0, left: 'center'},
    grid: {left: 50, right: 70, top: 50, bottom: 40},
    xAxis: {type: 'category', data: s.map(function (p) { return p.label; })},
    yAxis: [{type: 'value', name: '张数'}, {type: 'value', name: '金额（元）'}],
    series: [
      {name: '张数', type: 'bar', data: s.map(function (p) { return p.bills; }),
       markPoint: {data: [{type: 'max', name: '峰值'}]},
       markLine: {data: [{type: 'average', name: '平均'}], label: {formatter: '平均 {c}'}}},
      {name: '上期张数', type: 'line', lineStyle: {type: 'dashed'}, data: s.map(function (p) { return p.prev; })},
      {name: '净额（元）', type: 'line', yAxisIndex: 1, data: s.map(function (p) { return p.amount; })}
    ]
  });
  el.setAttribute('data-ready', String(s.length));
  window.addEventListener('resize', function () { chart.resize(); });
})();
