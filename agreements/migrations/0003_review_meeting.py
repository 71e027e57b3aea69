# The SLA's review meeting (the Nth business day of each month at a time, and who attends),
# one row per version like the other settings parts. No extra index: the row is read by its
# version (the one-to-one's unique index) and its attendees by the join table's own indexes.
# Existing versions get no row here; the editor and the jobs create or skip it as for the
# other settings parts.

import datetime
import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agreements', '0002_consistency_acceptance'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ReviewSchedule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('business_day', models.PositiveSmallIntegerField(default=3, help_text='1 is the first business day of each month.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(20)], verbose_name='business day of the month')),
                ('starts_at', models.TimeField(default=datetime.time(10, 0), verbose_name='time')),
                ('attendees', models.ManyToManyField(blank=True, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='attendees')),
                ('version', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='agreements.agreementversion')),
            ],
            options={
                'abstract': False,
            },
        ),
    ]
