namespace CapCluster.Security;

public sealed partial class AuditLog
{
    /// <summary>
    /// Ends the current aggregation interval: writes one record per key (peer, call, reason, outcome, and holder for an
    /// accepted call) that counted more events than the first (this happens every
    /// <see cref="AuditLogOptions.AggregationInterval"/> and on <see cref="Dispose"/>).
    /// </summary>
    /// <exception cref="AuditWriteException">Some could not be written; they are kept for the next flush.</exception>
    public void FlushAggregated()
    {
        if (_aggregator is null)
            return;
        var drained = _aggregator.Drain(_time.GetUtcNow(), _options.AggregationInterval);
        List<AuditRecord> pending;
        long dropped;
        lock (_gate)
        {
            pending = [.. _unwritten, .. drained];
            _unwritten.Clear();
            dropped = _dropped;
            _dropped = 0;
        }

        if (dropped > 0)
            pending.Add(new AuditRecord(_time.GetUtcNow(), null, null, null, null, "audit", "aggregate", AuditRecord.Notice,
                $"{dropped} aggregated record(s) were lost while the audit log was not writable", dropped));
        for (var i = 0; i < pending.Count; i++)
        {
            try
            {
                Write(pending[i]);
            }
            catch (AuditWriteException)
            {
                lock (_gate)
                {
                    foreach (var record in pending.Skip(i))
                    {
                        if (record.Outcome == AuditRecord.Notice)
                            _dropped += record.Count;
                        else if (_unwritten.Count < 4 * _options.MaxAggregationKeys)
                            _unwritten.Add(record);
                        else
                            _dropped++;
                    }
                }

                throw;
            }
        }
    }

    private void FlushAggregatedQuietly()
    {
        try
        {
            FlushAggregated();
        }
        catch (Exception e) when (e is CapClusterException or ObjectDisposedException)
        {
            // Kept for the next interval.
        }
    }
}
