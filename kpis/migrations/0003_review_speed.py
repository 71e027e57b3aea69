"""The review reads only small precomputed tables (issue 9).

DailyValue holds the values behind the medians and 90th percentiles (speed to lead, days in
stage, hours between attempts), indexed by (day, metric) like DailyFigure, so a month's
values are one range scan. RollupStamp holds one row per month: the token the cached report
of a closed month is keyed on.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('kpis', '0002_daily_figure_segment'),
    ]

    operations = [
        migrations.CreateModel(
            name='RollupStamp',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(help_text='The first day of the month.', unique=True)),
                ('token', models.CharField(max_length=32)),
                ('rolled_up_at', models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name='DailyValue',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('metric', models.CharField(max_length=40)),
                ('value', models.FloatField()),
            ],
            options={
                'indexes': [models.Index(fields=['day', 'metric'], name='daily_value_day_metric')],
            },
        ),
    ]
