import { Pressable, StyleSheet, Text, View } from 'react-native';

import { LEAD_STATUSES, type Lead, type LeadStatus } from '../api/types';
import { colors, common } from '../theme';

/** One lead: who, how good, and buttons to move it along. */
export function LeadCard({
  lead,
  onStatus,
  busy,
}: {
  lead: Lead;
  onStatus: (status: LeadStatus) => void;
  busy: boolean;
}) {
  const who = [lead.person, lead.company].filter(Boolean).join(' · ') || 'Unknown contact';
  return (
    <View style={common.card} testID={`lead-${lead.id}`}>
      <View style={styles.row}>
        <Text style={[common.title, { flex: 1 }]}>{who}</Text>
        <Text style={styles.score}>{lead.score}</Text>
      </View>
      {lead.intent ? <Text style={common.body}>{lead.intent}</Text> : null}
      {lead.next_step ? <Text style={common.muted}>Next: {lead.next_step}</Text> : null}
      <View style={styles.statuses}>
        {LEAD_STATUSES.map((status) => {
          const active = status === lead.status;
          return (
            <Pressable
              key={status}
              accessibilityRole="button"
              accessibilityState={{ selected: active, disabled: busy }}
              disabled={busy || active}
              onPress={() => onStatus(status)}
              style={[styles.chip, active && styles.chipActive]}
            >
              <Text style={[styles.chipText, active && styles.chipTextActive]}>{status}</Text>
            </Pressable>
          );
        })}
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  row: { flexDirection: 'row', alignItems: 'center' },
  score: { fontSize: 18, fontWeight: '700', color: colors.accent },
  statuses: { flexDirection: 'row', flexWrap: 'wrap', gap: 6, marginTop: 8 },
  chip: { borderWidth: 1, borderColor: colors.border, borderRadius: 999, paddingHorizontal: 10, paddingVertical: 4 },
  chipActive: { backgroundColor: colors.accent, borderColor: colors.accent },
  chipText: { fontSize: 12, color: colors.text },
  chipTextActive: { color: '#fff' },
});
